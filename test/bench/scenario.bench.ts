import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { Pool } from 'pg';
import { SamrBridge, cleanupGeneratedDomain, generateDomain, type SamrDomain } from '@metaweave/samr';
import { PrivateSlapd, REPO_ROOT, generateExchangeSite, siteLdif, toLdif, uniqueSuffix, waitFor } from '@metaweave/testing';
import { Pipeline, type ServiceName } from '../e2e/harness';
import { copyFloorMs, histogramPng, report, summarize } from './support';

/**
 * The seed scenario at size (issue 8): `MW_BENCH_N` mailboxes-and-more in a generated Exchange site
 * (bulk-loaded into a private slapd) and `MW_BENCH_N` generated NT4 users on the shared Samba
 * stand-in, SIDs aligned so the mailboxes join their accounts; all five services with the default
 * rules. Measures, in one run:
 * - initial sync: wall time from the services' start to the read model complete (every person,
 *   every SID-carrying mailbox joined with ntAccount), objects/s, and the floor — `ldapsearch`
 *   paged + the SAMR library's raw per-user read + COPY of as many rows — and our time ÷ floor;
 * - change propagation: `MW_BENCH_RATE` changes/s (default 20) for `MW_BENCH_SECONDS` (default 30)
 *   into the directory (a mailbox's display name, which flows to NT4 fullName): latency to the read
 *   model and to the NT4 domain (the NT4 connector's confirmed apply, read back from the domain),
 *   p50/p95/p99/max and a histogram PNG;
 * - peak RSS (VmHWM) of each service at the end.
 * The password-set figure is test/bench/password-api.bench.ts (same `npm run bench`).
 * Setup (generation, bulk loads) is reported, not counted.
 * Run: `npm run bench -- test/bench/scenario` (MW_BENCH_N=1000 for a quick look).
 */
jest.setTimeout(4 * 3_600_000);

const N = Number(process.env['MW_BENCH_N'] ?? 10_000);
const RATE = Number(process.env['MW_BENCH_RATE'] ?? 20);
const SECONDS = Number(process.env['MW_BENCH_SECONDS'] ?? 30);

describe(`the seed scenario, ${N} objects per source`, () => {
  const p = new Pipeline();
  const slapd = new PrivateSlapd({ suffix: 'o=Contoso', accesslog: true });
  const server = { serverConf: p.stack['MW_SAMBA_SERVER_CONF']!, nssEnv: p.stack['MW_SAMBA_NSS_ENV']! };
  const prefix = `bs${uniqueSuffix().slice(0, 6)}`;
  const pg = new Pool({ connectionString: p.stack['MW_PG_ADMIN_URL'], max: 2 });
  let bridge: SamrBridge | undefined;
  let domain: SamrDomain;
  let provisioned: string[] = [];

  afterAll(async () => {
    // accounts the default rules provisioned for mailboxes without an SID (named after the mailbox)
    for (const u of await domain?.enumerateUsers().catch(() => []) ?? []) if (provisioned.includes(u.accountName)) await domain.deleteUser(u.rid).catch(() => undefined);
    for (const g of await domain?.listGroups({ fresh: true }).catch(() => []) ?? []) if (/^dl\d+$/.test(g.name)) await domain.deleteGroup(g.rid, { removeMembers: true }).catch(() => undefined);
    await cleanupGeneratedDomain({ ...server, prefix }).catch(() => undefined);
    await bridge?.close();
    await pg.end();
    await p.dispose();
    await slapd.dispose();
  });

  it('measures', async () => {
    bridge = await SamrBridge.start();
    domain = await bridge.connect({
      host: p.stack['MW_SAMBA_HOST']!,
      port: Number(p.stack['MW_SAMBA_PORT']),
      domain: p.stack['MW_SAMBA_DOMAIN']!,
      username: p.stack['MW_SAMBA_ADMIN_USER']!,
      password: p.stack['MW_SAMBA_ADMIN_PASSWORD']!,
      clientConf: p.stack['MW_SAMBA_CLIENT_CONF']!,
    });
    // setup, not counted ---------------------------------------------------------------------
    let t = Date.now();
    const highest = Math.max(...(await domain.enumerateUsers()).map((u) => u.rid), ...(await domain.listGroups()).map((g) => g.rid));
    const ridBase = highest + 1000;
    const gen = await generateDomain({ ...server, prefix, users: N, groups: 0, ridBase });
    const nt4LoadMs = Date.now() - t;
    t = Date.now();
    const site = generateExchangeSite({ org: 'Contoso', site: p.site, recipients: N, domainSid: gen.domainSid, firstRid: ridBase });
    const base = `ou=${p.site},o=Contoso`;
    slapd.create(
      [
        toLdif('o=Contoso', { objectClass: ['organization'], o: ['Contoso'] }),
        toLdif(base, { objectClass: ['organizationalUnit'], ou: [p.site] }),
        toLdif(`cn=Recipients,${base}`, { objectClass: ['ex55Container'], cn: ['Recipients'] }),
        ...siteLdif(site),
      ].join('\n'),
    );
    await slapd.start();
    const ldapLoadMs = Date.now() - t;
    const mailboxes = site.recipients.filter((r) => r.kind === 'mailbox' || r.kind === 'resource' || r.kind === 'nosid');
    provisioned = site.recipients.filter((r) => r.kind === 'nosid').map((r) => r.rdn);
    const withSid = site.counts.mailbox; // resource mailboxes share their owner's SID: they join nothing of their own

    // the floor: read both sources with the plainest clients, COPY as many rows ------------------
    t = Date.now();
    const dump = spawnSync(
      'ldapsearch',
      ['-x', '-LLL', '-H', slapd.url, '-D', slapd.adminDn, '-w', slapd.adminPassword, '-b', base, '-E', 'pr=1000/noprompt', '(|(objectClass=ex55Mailbox)(objectClass=Remote-Address)(objectClass=groupOfNames))', '*', 'entryUUID'],
      { encoding: 'utf8', maxBuffer: 1 << 30 },
    );
    const ldapsearchMs = Date.now() - t;
    expect((dump.stdout.match(/^dn:/gm) ?? []).length).toBe(N);
    const users = await domain.enumerateUsers();
    const raw = await domain.benchRead(users.map((u) => u.rid));
    const copyMs = copyFloorMs(p.stack['MW_PG_ADMIN_URL']!, N + users.length);
    const floorMs = ldapsearchMs + raw.ms + copyMs;

    // initial sync --------------------------------------------------------------------------------
    const rm = `"${p.schema('projection-service')}".mv_object`;
    t = Date.now();
    await p.start('projection-service');
    await p.start('join-engine');
    await p.start('nt4-connector', { MW_NT4_IMPORT_INTERVAL_MS: '600000' }); // one full import at start
    await p.start('exchange-connector', {
      MW_LDAP_URL: slapd.url,
      MW_LDAP_BIND_DN: slapd.adminDn,
      MW_LDAP_BIND_PASSWORD: slapd.adminPassword,
      MW_LDAP_BASE_DN: 'o=Contoso',
      MW_EXCHANGE_DELTA_INTERVAL_MS: '1000',
    });
    let last = '';
    await waitFor(
      'the read model complete: every person, every mailbox with an SID joined',
      async () => {
        const r = await pg.query(`SELECT count(*)::int AS persons, count(*) FILTER (WHERE attributes ? 'ntAccount')::int AS joined FROM ${rm} WHERE object_type = 'person' AND NOT deleted`);
        last = JSON.stringify(r.rows[0]);
        return r.rows[0].persons >= mailboxes.length && r.rows[0].joined >= withSid ? r.rows[0] : undefined;
      },
      4 * 3_600_000,
      1000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; last seen ${last}`);
    });
    const syncMs = Date.now() - t;
    const objects = N + users.length;

    // change propagation --------------------------------------------------------------------------
    const targets = site.recipients.filter((r) => r.kind === 'mailbox').slice(0, RATE * SECONDS);
    const sent = new Map<string, { at: number; name: string; uid: string }>();
    // generated mailbox `mb<i>-…` carries the SID of RID ridBase + i: the NT4 account it joined
    const ridOfMailbox = (rdn: string) => ridBase + Number(/^mb(\d+)-/.exec(rdn)![1]);
    const uidOfAnchor = new Map(targets.map((r) => [`${gen.domainSid}-${ridOfMailbox(r.rdn)}`, r.rdn]));
    const client = new Client({ url: slapd.url, timeout: 30_000 });
    await client.bind(slapd.adminDn, slapd.adminPassword);
    const started = Date.now();
    for (let i = 0; i < targets.length; i++) {
      const due = started + (i * 1000) / RATE;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const r = targets[i]!;
      const name = `Changed ${i} ${prefix}`;
      const at = Date.now();
      await client.modify(r.dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'cn', values: [name, r.rdn] }) })]);
      sent.set(r.rdn, { at, name, uid: r.rdn });
    }
    await client.unbind();
    const toReadModel = new Map<string, number>();
    const toNt4 = new Map<string, number>();
    const nt4Refused = new Map<string, string>(); // uid → the NT4 connector's refusal
    const nt4Exports = `"${p.schema('nt4-connector')}".export_state`;
    await waitFor(
      'every change in the read model and the NT4 domain',
      async () => {
        const rmRows = await pg.query(`SELECT attributes->'uid'->>0 AS uid, attributes->'cn'->>0 AS cn, updated_at FROM ${rm} WHERE attributes->'uid'->>0 = ANY($1)`, [[...sent.keys()]]);
        for (const r of rmRows.rows) if (sent.get(r.uid)?.name === r.cn && !toReadModel.has(r.uid)) toReadModel.set(r.uid, new Date(r.updated_at).getTime() - sent.get(r.uid)!.at);
        // the NT4 connector's apply, confirmed by reading the account back from the domain
        const ntRows = await pg.query(
          `SELECT anchor, status, error->>'message' AS error, command->'changes' AS changes, last_attempt FROM ${nt4Exports} WHERE status IN ('applied', 'failed') AND op = 'update' AND last_attempt >= $1`,
          [new Date(started)],
        );
        for (const r of ntRows.rows) {
          const uid = uidOfAnchor.get(r.anchor) ?? '';
          const want = sent.get(uid);
          const values = (r.changes as { name: string; values: string[] }[]).find((c) => c.name === 'fullName')?.values ?? [];
          if (!want || !values.includes(want.name)) continue;
          if (r.status === 'applied' && !toNt4.has(uid)) toNt4.set(uid, new Date(r.last_attempt).getTime() - want.at);
          if (r.status === 'failed') nt4Refused.set(uid, String(r.error));
        }
        return toReadModel.size === sent.size && toNt4.size + nt4Refused.size >= sent.size ? true : undefined;
      },
      600_000,
      200,
    ).catch(() => undefined); // what arrived is reported; the rest is counted as missing
    // a sample read straight from the domain: NT4 really holds the new names
    const sample = [...sent.values()].slice(0, 5);
    for (const s of sample.filter((x) => toNt4.has(x.uid))) expect((await domain.getUser(ridOfMailbox(s.uid))).fullName).toBe(s.name);

    // peak RSS ------------------------------------------------------------------------------------
    const rss: Record<string, number> = {};
    for (const s of ['exchange-connector', 'nt4-connector', 'join-engine', 'projection-service'] as ServiceName[]) {
      const { pid } = (await p.json<{ pid: number }>(s, '/health/live')).body;
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      rss[s] = m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
    }

    const rmLat = summarize([...toReadModel.values()]);
    const ntLat = summarize([...toNt4.values()]);
    const { png, buckets } = histogramPng([...toReadModel.values()]);
    const pngFile = join(REPO_ROOT, 'bench-results-scenario-propagation.png'); // next to bench-results.json
    writeFileSync(pngFile, png);
    const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
    const rows: Record<string, Record<string, unknown>> = {
      'setup: NT4 users (passdb bulk load)': { objects: N, ms: nt4LoadMs },
      'setup: Exchange site (slapadd)': { objects: N, ms: ldapLoadMs },
      'floor: ldapsearch -E pr=1000': { objects: N, ms: ldapsearchMs },
      'floor: raw SAMR read': { objects: raw.count, ms: Math.round(raw.ms) },
      'floor: COPY into PostgreSQL': { objects: N + users.length, ms: Math.round(copyMs) },
      'floor: total': { objects, ms: Math.round(floorMs), perSecond: rate(objects, floorMs) },
      'initial sync (start → read model complete)': { objects, ms: syncMs, perSecond: rate(objects, syncMs), ratioToFloor: Math.round((syncMs / floorMs) * 100) / 100 },
      [`propagation → read model (${toReadModel.size}/${sent.size} at ${RATE}/s)`]: { ...rmLat },
      [`propagation → NT4 domain (${toNt4.size}/${sent.size} at ${RATE}/s; ${nt4Refused.size} refused)`]: { ...ntLat, refused: [...new Set(nt4Refused.values())].slice(0, 1).join('') || null },
      ...Object.fromEntries(Object.entries(rss).map(([s, mb]) => [`peak RSS ${s} (MB)`, { mb }])),
    };
    report(`scenario-${N}`, `The seed scenario, ${N} per source (${JSON.stringify(site.counts)}; ${users.length} users in the shared domain)`, rows, {
      n: N,
      domainUsers: users.length,
      rate: RATE,
      seconds: SECONDS,
      histogram: { file: pngFile, buckets },
    });
    expect(toReadModel.size).toBeGreaterThan(0);
  });
});

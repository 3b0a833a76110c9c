import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SamrBridge, accountSid, cleanupGeneratedDomain, generateDomain, type SamrDomain } from '@metaweave/samr';
import { REPO_ROOT, samrStandIn, uniqueSuffix, waitFor } from '@metaweave/testing';
import { Pipeline } from '../e2e/harness';

/**
 * NT4 connector full-import throughput next to the raw SAMR read rate of the same library in the
 * same run (OpenUser + QueryUserInfo 21 + GetGroupsForUser per RID, nothing returned: the floor).
 * `MW_BENCH_N` generated users (default 2,000) on the shared Samba stand-in, removed afterwards.
 * The import reads the whole domain (other accounts included): rates are over what it read. Then
 * accounts are added, changed, disabled and deleted directly through SAMR, and the next import
 * must emit exactly those changes (nobody else may change the stand-in meanwhile).
 * Prints a table and merges its figures into bench-results.json.
 * Run: `npm run bench -- test/bench/nt4-import`.
 */
jest.setTimeout(3_600_000);

const N = Number(process.env['MW_BENCH_N'] ?? 2_000);

describe(`NT4 full import, ${N} generated users`, () => {
  const p = new Pipeline();
  const server = { serverConf: p.stack['MW_SAMBA_SERVER_CONF']!, nssEnv: p.stack['MW_SAMBA_NSS_ENV']! };
  const prefix = `bn${uniqueSuffix().slice(0, 6)}`;
  let bridge: SamrBridge;
  let domain: SamrDomain;

  afterAll(async () => {
    await cleanupGeneratedDomain({ ...server, prefix }).catch(() => undefined);
    await bridge?.close();
    await p.dispose();
  });

  const importRun = async () => {
    const started = await p.json<{ runId: string }>('nt4-connector', '/api/v1/runs', { method: 'POST', body: { step: 'full-import', partition: p.stack['MW_SAMBA_DOMAIN']!.toUpperCase() } });
    expect(started.status).toBe(202);
    return waitFor(
      'the NT4 full import',
      async () => {
        const r = (await p.json<{ status: string; counters: Record<string, number> }>('nt4-connector', `/api/v1/runs/${started.body.runId}`)).body;
        return r.status === 'running' ? undefined : r;
      },
      3_600_000,
      250,
    );
  };

  it('measures', async () => {
    let t = Date.now();
    const gen = await generateDomain({ ...server, prefix, users: N, groups: Math.max(1, Math.floor(N / 100)), membersPerGroup: 20 });
    const loadMs = Date.now() - t;
    bridge = await SamrBridge.start();
    domain = await bridge.connect(samrStandIn(p.stack));
    await p.start('nt4-connector');

    t = Date.now();
    const all = await domain.enumerateUsers();
    const enumMs = Date.now() - t;
    const generated = all.filter((u) => u.accountName.startsWith(prefix)).map((u) => u.rid);
    // the stand-in is shared: other tests may delete their accounts meanwhile; ours stay put
    const raw = await domain.benchRead(generated);

    t = Date.now();
    const full = await importRun();
    const fullMs = Date.now() - t;
    t = Date.now();
    const again = await importRun();
    const againMs = Date.now() - t;

    // changes made directly through SAMR: the next full import emits exactly those
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await domain.createUser({ accountName: `${prefix}new${i}` }));
    await domain.updateUser(generated[0]!, { fields: { fullName: 'Changed directly' } });
    await domain.updateUser(generated[1]!, { enabled: false });
    await domain.deleteUser(generated[2]!);
    await domain.deleteUser(generated[3]!);
    t = Date.now();
    const changed = await importRun();
    const changedMs = Date.now() - t;
    for (const u of made) await domain.deleteUser(u.rid).catch(() => undefined);

    // Exactly those changes, judged on this run's accounts (others may change the shared domain meanwhile)
    expect(changed.counters).toMatchObject({ stageRename: 0, stageFailure: 0 });
    const sid = (rid: number) => accountSid(domain.description.domainSid, rid);
    const cs: { anchor: string; dn: string; version: number; deleted: boolean }[] = (
      await p.admin.query(`SELECT anchor, dn, version, deleted FROM "${p.schema('nt4-connector')}".cs_object WHERE dn LIKE $1`, [`%\\${prefix}%`])
    ).rows;
    const byAnchor = new Map(cs.map((r) => [r.anchor, r]));
    expect(cs.filter((r) => r.dn.includes(`${prefix}new`) && !r.deleted)).toHaveLength(3);
    expect([generated[0], generated[1]].map((r) => byAnchor.get(sid(r!))?.version)).toEqual([2, 2]);
    expect([generated[2], generated[3]].map((r) => byAnchor.get(sid(r!))?.deleted)).toEqual([true, true]);
    expect(generated.slice(4).filter((r) => byAnchor.get(sid(r))?.version !== 1)).toEqual([]);
    expect(gen.users).toBe(N);
    expect(full).toMatchObject({ status: 'completed' });
    const read = full.counters['stageAdd']! + full.counters['stageUpdate']! + full.counters['stageNoChange']!;
    expect(read).toBeGreaterThanOrEqual(N);
    expect(again.counters['stageAdd']).toBe(0);
    const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
    const rows = {
      'generate users (passdb bulk load)': { objects: N, ms: loadMs, perSecond: rate(N, loadMs) },
      'EnumDomainUsers (one call)': { objects: all.length, ms: enumMs, perSecond: rate(all.length, enumMs) },
      'raw SAMR read of the generated users, same library (floor)': { objects: raw.count, ms: Math.round(raw.ms), perSecond: Math.round(raw.usersPerSecond ?? 0) },
      'full import, all new (stage + events)': { objects: read, ms: fullMs, perSecond: rate(read, fullMs) },
      'full import, nothing changed': { objects: read, ms: againMs, perSecond: rate(read, againMs) },
      'full import, 3 added, 2 changed, 2 deleted directly': { objects: read, ms: changedMs, perSecond: rate(read, changedMs) },
    };
    process.stdout.write(`\nNT4 full import, ${N} generated users, ${all.length} users in the domain (this machine, ${new Date().toISOString()})\n`);
    // eslint-disable-next-line no-console -- a benchmark prints its table
    console.table(rows);
    const file = join(REPO_ROOT, 'bench-results.json');
    const results = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    results[`nt4-import-${N}`] = { at: new Date().toISOString(), users: N, domainUsers: all.length, ...rows };
    writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrivateSlapd, REPO_ROOT, generateExchangeSite, siteLdif, toLdif, waitFor } from '@metaweave/testing';
import { Pipeline } from '../e2e/harness';

/**
 * Exchange connector full-import throughput against the physical floor: the same site dumped by
 * `ldapsearch -E pr=1000` in the same run. For each size in `MW_BENCH_N` (default `10000,100000`) a
 * generated site (libs/testing generateExchangeSite: mailboxes, resource and no-SID mailboxes,
 * custom recipients, nested/empty DLs, certificates) is bulk-loaded with `slapadd` into a private
 * slapd (with an accesslog, like the stand-in), and the Exchange connector service imports it.
 * Prints a table and merges its figures into bench-results.json.
 * Run: `npm run bench -- test/bench/exchange-import` (MW_BENCH_N=10000 for the small size only).
 */
jest.setTimeout(3_600_000);

const SIZES = (process.env['MW_BENCH_N'] ?? '10000,100000').split(',').map(Number);

interface Run {
  status: string;
  counters: Record<string, number>;
}

/** Starts a run step and waits for its end (as Pipeline.fullImport, with room for 100k objects). */
async function runStep(p: Pipeline, step: 'full-import' | 'delta-import'): Promise<Run> {
  const started = await p.json<{ runId: string }>('exchange-connector', '/api/v1/runs', { method: 'POST', body: { step, partition: p.site } });
  return waitFor(
    `the ${step} to finish`,
    async () => {
      const run = await p.json<Run>('exchange-connector', `/api/v1/runs/${started.body.runId}`);
      return run.body.status === 'running' ? undefined : run.body;
    },
    3_000_000,
    250,
  );
}

describe.each(SIZES)('Exchange full import, %i recipients', (N) => {
  const p = new Pipeline();
  const slapd = new PrivateSlapd({ suffix: 'o=Contoso', accesslog: true });
  afterAll(async () => {
    await p.dispose();
    await slapd.dispose();
  });

  it('measures', async () => {
    let t = Date.now();
    const site = generateExchangeSite({ org: 'Contoso', site: p.site, recipients: N });
    const ldif = siteLdif(site);
    const generateMs = Date.now() - t;
    const base = `ou=${p.site},o=Contoso`;
    t = Date.now();
    slapd.create(
      [
        toLdif('o=Contoso', { objectClass: ['organization'], o: ['Contoso'] }),
        toLdif(base, { objectClass: ['organizationalUnit'], ou: [p.site] }),
        toLdif(`cn=Recipients,${base}`, { objectClass: ['ex55Container'], cn: ['Recipients'] }),
        ...ldif,
      ].join('\n'),
    );
    const loadMs = Date.now() - t;
    await slapd.start();
    await p.start('exchange-connector', {
      MW_LDAP_URL: slapd.url,
      MW_LDAP_BIND_DN: slapd.adminDn,
      MW_LDAP_BIND_PASSWORD: slapd.adminPassword,
      MW_LDAP_BASE_DN: 'o=Contoso',
    });

    t = Date.now();
    const dump = spawnSync(
      'ldapsearch',
      ['-x', '-LLL', '-H', slapd.url, '-D', slapd.adminDn, '-w', slapd.adminPassword, '-b', base, '-E', 'pr=1000/noprompt', '(|(objectClass=ex55Mailbox)(objectClass=Remote-Address)(objectClass=groupOfNames))', '*', 'entryUUID'],
      { encoding: 'utf8', maxBuffer: 1 << 30 },
    );
    const ldapsearchMs = Date.now() - t;
    const dumped = (dump.stdout.match(/^dn:/gm) ?? []).length;

    t = Date.now();
    const full = await runStep(p, 'full-import');
    const fullMs = Date.now() - t;
    t = Date.now();
    const again = await runStep(p, 'full-import');
    const againMs = Date.now() - t;
    t = Date.now();
    const delta = await runStep(p, 'delta-import');
    const deltaMs = Date.now() - t;

    expect(dumped).toBe(N);
    expect(full.counters['stageAdd']).toBe(N);
    expect(again.counters['stageNoChange']).toBe(N);
    expect(delta.counters['stageAdd'] ?? 0).toBe(0);
    const rate = (ms: number) => Math.round((N / ms) * 1000);
    const rows = {
      'generate the site (LDIF)': { ms: generateMs, perSecond: rate(generateMs) },
      'load the site (slapadd -q)': { ms: loadMs, perSecond: rate(loadMs) },
      'ldapsearch -E pr=1000 (floor)': { ms: ldapsearchMs, perSecond: rate(ldapsearchMs) },
      'full import, all new (stage + events)': { ms: fullMs, perSecond: rate(fullMs) },
      'full import, nothing changed': { ms: againMs, perSecond: rate(againMs) },
      'delta import, nothing changed': { ms: deltaMs, perSecond: null },
    };
    process.stdout.write(`\nExchange full import, ${N} recipients (${JSON.stringify(site.counts)}; this machine, ${new Date().toISOString()})\n`);
    // eslint-disable-next-line no-console -- a benchmark prints its table
    console.table(rows);
    const file = join(REPO_ROOT, 'bench-results.json');
    const results = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    results[`exchange-import-${N}`] = { at: new Date().toISOString(), recipients: N, ...rows };
    writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  });
});

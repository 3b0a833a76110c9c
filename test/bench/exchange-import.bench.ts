import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@metaweave/testing';
import { Pipeline, mailbox } from '../e2e/harness';

/**
 * Exchange connector full-import throughput against the physical floor: the same site dumped by
 * `ldapsearch -E pr=1000` in the same run. `MW_BENCH_N` recipients (default 10,000). Prints a table
 * and merges its figures into bench-results.json. Run: `npm run bench -- test/bench/exchange-import`.
 */
jest.setTimeout(3_600_000);

const N = Number(process.env['MW_BENCH_N'] ?? 10_000);

describe(`Exchange full import, ${N} recipients`, () => {
  const p = new Pipeline();
  afterAll(() => p.dispose());

  it('measures', async () => {
    let t = Date.now();
    for (let i = 0; i < N; i += 1000) {
      await p.addRecipients(Array.from({ length: Math.min(1000, N - i) }, (_, j) => mailbox(`b${i + j}`, 100_000 + i + j, { department: ['IT', 'Sales', 'Ops'][(i + j) % 3]! })));
    }
    const loadMs = Date.now() - t;
    await p.start('exchange-connector');

    const base = `ou=${p.site},${p.stack['MW_LDAP_BASE_DN']}`;
    t = Date.now();
    const dump = spawnSync(
      'ldapsearch',
      ['-x', '-LLL', '-H', p.stack['MW_LDAP_URL']!, '-D', p.stack['MW_LDAP_BIND_DN']!, '-w', p.stack['MW_LDAP_BIND_PASSWORD']!, '-b', base, '-E', 'pr=1000/noprompt', '(objectClass=ex55Mailbox)', '*', 'entryUUID'],
      { encoding: 'utf8', maxBuffer: 1 << 30 },
    );
    const ldapsearchMs = Date.now() - t;
    const dumped = (dump.stdout.match(/^dn: /gm) ?? []).length;

    t = Date.now();
    const full = await p.fullImport();
    const fullMs = Date.now() - t;
    t = Date.now();
    const again = await p.fullImport();
    const againMs = Date.now() - t;
    t = Date.now();
    const delta = await p.fullImport('delta-import');
    const deltaMs = Date.now() - t;

    expect(dumped).toBe(N);
    expect(full.counters['stageAdd']).toBe(N);
    expect(again.counters['stageNoChange']).toBe(N);
    expect(delta.counters['stageAdd'] ?? 0).toBe(0);
    const rate = (ms: number) => Math.round((N / ms) * 1000);
    const rows = {
      'load the site (LDAP adds)': { ms: loadMs, perSecond: rate(loadMs) },
      'ldapsearch -E pr=1000 (floor)': { ms: ldapsearchMs, perSecond: rate(ldapsearchMs) },
      'full import, all new (stage + events)': { ms: fullMs, perSecond: rate(fullMs) },
      'full import, nothing changed': { ms: againMs, perSecond: rate(againMs) },
      'delta import, nothing changed': { ms: deltaMs, perSecond: null },
    };
    process.stdout.write(`\nExchange full import, ${N} recipients (this machine, ${new Date().toISOString()})\n`);
    // eslint-disable-next-line no-console -- a benchmark prints its table
    console.table(rows);
    const file = join(REPO_ROOT, 'bench-results.json');
    const results = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    results[`exchange-import-${N}`] = { at: new Date().toISOString(), recipients: N, ...rows };
    writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  });
});

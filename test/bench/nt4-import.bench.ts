import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SamrBridge, cleanupGeneratedDomain, generateDomain, type SamrDomain } from '@metaweave/samr';
import { REPO_ROOT, uniqueSuffix, waitFor } from '@metaweave/testing';
import { Pipeline } from '../e2e/harness';

/**
 * NT4 connector full-import throughput next to the raw SAMR read rate of the same library in the
 * same run (OpenUser + QueryUserInfo 21 + GetGroupsForUser per RID, nothing returned: the floor).
 * `MW_BENCH_N` generated users (default 2,000) on the shared Samba stand-in, removed afterwards.
 * The import reads the whole domain (other accounts included): rates are over what it read.
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
    domain = await bridge.connect({
      host: p.stack['MW_SAMBA_HOST']!,
      port: Number(p.stack['MW_SAMBA_PORT']),
      domain: p.stack['MW_SAMBA_DOMAIN']!,
      username: p.stack['MW_SAMBA_ADMIN_USER']!,
      password: p.stack['MW_SAMBA_ADMIN_PASSWORD']!,
      clientConf: p.stack['MW_SAMBA_CLIENT_CONF']!,
    });
    await p.start('nt4-connector');

    t = Date.now();
    const all = await domain.enumerateUsers();
    const enumMs = Date.now() - t;
    const raw = await domain.benchRead(all.map((u) => u.rid));

    t = Date.now();
    const full = await importRun();
    const fullMs = Date.now() - t;
    t = Date.now();
    const again = await importRun();
    const againMs = Date.now() - t;

    expect(gen.users).toBe(N);
    expect(full).toMatchObject({ status: 'completed' });
    const read = full.counters['stageAdd']! + full.counters['stageUpdate']! + full.counters['stageNoChange']!;
    expect(read).toBeGreaterThanOrEqual(N);
    expect(again.counters['stageAdd']).toBe(0);
    const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
    const rows = {
      'generate users (passdb bulk load)': { objects: N, ms: loadMs, perSecond: rate(N, loadMs) },
      'EnumDomainUsers (one call)': { objects: all.length, ms: enumMs, perSecond: rate(all.length, enumMs) },
      'raw SAMR read, same library (floor)': { objects: raw.count, ms: Math.round(raw.ms), perSecond: Math.round(raw.usersPerSecond ?? 0) },
      'full import, all new (stage + events)': { objects: read, ms: fullMs, perSecond: rate(read, fullMs) },
      'full import, nothing changed': { objects: read, ms: againMs, perSecond: rate(read, againMs) },
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

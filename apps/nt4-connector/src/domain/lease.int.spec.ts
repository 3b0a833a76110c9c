import { RunInProgress } from '@metaweave/connector-runtime';
import { openDatabase } from '@metaweave/platform';
import { stackEnv, uniqueSuffix, waitFor } from '@metaweave/testing';
import type { DataSource } from 'typeorm';
import { Init1732320000000 } from '../migrations/1732320000000-init';
import { LeaseAndPasswords1732400000000 } from '../migrations/1732400000000-lease-and-passwords';
import { DomainLease } from './lease';

jest.setTimeout(120_000);

const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as never;

/**
 * The per-domain lease against the real PostgreSQL: two "replicas" (two data sources, two pools)
 * hammer one domain at once; at most one holds it at any moment, nobody fails for having waited,
 * and the lease log shows no two tenures overlapping.
 */
describe('DomainLease', () => {
  const suffix = uniqueSuffix();
  const schema = `int_${suffix}_nt4_lease`;
  const url = stackEnv()['MW_PG_ADMIN_URL']!;
  const connector = `nt4-lease${suffix}`;
  let a: DataSource;
  let b: DataSource;
  let leaseA: DomainLease;
  let leaseB: DomainLease;

  beforeAll(async () => {
    const open = (name: string) => openDatabase({ url, schema, applicationName: name, migrations: [Init1732320000000, LeaseAndPasswords1732400000000], poolSize: 6 });
    a = await open('lease-a');
    b = await open('lease-b');
    leaseA = new DomainLease({ db: a, schema, connector, logger, holder: 'replica-a' });
    leaseB = new DomainLease({ db: b, schema, connector, logger, holder: 'replica-b' });
  });
  afterAll(async () => {
    await a?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await a?.destroy();
    await b?.destroy();
  });

  it('lets one operation at a time touch a domain across replicas; the rest queue and none fails', async () => {
    let inside = 0;
    let most = 0;
    const work = Array.from({ length: 40 }, (_, i) =>
      (i % 2 ? leaseA : leaseB).with('CONTOSO', 60_000, i % 5 === 0 ? 'full-import' : 'password set', async () => {
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 5 + (i % 7) * 3));
        inside--;
      }),
    );
    const results = await Promise.allSettled(work);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(most).toBe(1);

    const [{ tenures, overlaps, open }] = await a.query(
      `SELECT count(*)::int AS tenures,
              count(*) FILTER (WHERE prev_release > acquired_at)::int AS overlaps,
              count(*) FILTER (WHERE released_at IS NULL)::int AS open
       FROM (SELECT acquired_at, released_at, max(released_at) OVER (ORDER BY acquired_at ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_release
             FROM "${schema}".lease_log WHERE lease_key = $1) t`,
      [`${connector}/CONTOSO`],
    );
    expect({ tenures, overlaps, open }).toEqual({ tenures: 40, overlaps: 0, open: 0 });
    const holders = new Set((await leaseA.history('CONTOSO', 100)).map((e) => e.holder));
    expect(holders).toEqual(new Set(['replica-a', 'replica-b']));
  });

  it('queues a waiter behind the holder, shows both in the status, and a wait that runs out is a typed, retriable refusal', async () => {
    const release = await leaseA.acquire('FABRIKAM', 10_000, 'full-import');
    await expect(leaseB.acquire('FABRIKAM', 0, 'password set')).rejects.toBeInstanceOf(RunInProgress);
    await expect(leaseB.acquire('FABRIKAM', 300, 'password set')).rejects.toMatchObject({ retriable: true });

    const queued = leaseB.acquire('FABRIKAM', 30_000, 'export add');
    const status = await waitFor('the queued waiter in pg_locks', async () => {
      const s = await leaseA.status('FABRIKAM');
      return s.waiting === 1 ? s : undefined;
    });
    expect(status.holder).toMatchObject({ purpose: 'full-import', holder: 'replica-a' });
    // Another domain is not held up by this one.
    await leaseB.with('OTHER', 0, 'full-import', async () => undefined);

    await release();
    const second = await queued;
    expect((await leaseA.status('FABRIKAM')).holder).toMatchObject({ purpose: 'export add', holder: 'replica-b' });
    await second();
    expect((await leaseA.status('FABRIKAM')).holder).toBeNull();
  });
});

import { ServiceProcess } from '@metaweave/testing';
import { Pipeline, type ServiceName } from './harness';

jest.setTimeout(180_000);

const STATEFUL: ServiceName[] = ['exchange-connector', 'nt4-connector', 'join-engine', 'password-service', 'projection-service'];

/**
 * What the Helm pre-install/pre-upgrade Job runs: `main.js --migrate-only` applies the migrations
 * and creates the topics, then exits 0 without serving. Replicas (or the Job beside a rollout)
 * migrating one fresh schema at the same time must not trip over each other.
 */
describe('--migrate-only', () => {
  const p = new Pipeline();
  afterAll(() => p.dispose());

  async function migrations(service: ServiceName): Promise<number> {
    const { rows } = await p.admin.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'migrations'`,
      [p.schema(service)],
    );
    if (rows[0].n === 0) return 0;
    const applied = await p.admin.query(`SELECT count(*)::int AS n FROM "${p.schema(service)}".migrations`);
    return applied.rows[0].n as number;
  }

  it.each(STATEFUL)('%s: three replicas at once migrate a fresh schema, exit 0 and serve nothing', async (service) => {
    const env = await p.env(service);
    const replicas = [0, 1, 2].map(() => new ServiceProcess({ name: service, env: { ...env, MW_MIGRATE_ONLY: 'true', MW_LOG_LEVEL: 'info' } }).start());
    const codes = await Promise.all(replicas.map((r) => r.waitExit()));
    for (const [i, r] of replicas.entries()) expect({ replica: i, code: codes[i], logs: codes[i] === 0 ? '' : r.logs }).toEqual({ replica: i, code: 0, logs: '' });
    expect(replicas.some((r) => r.logs.includes('migrate-only: database migrations applied'))).toBe(true);
    expect(await migrations(service)).toBeGreaterThan(0);
    // Nothing listened on the service's port.
    await expect(fetch(`http://127.0.0.1:${env['MW_HTTP_PORT']}/health/live`)).rejects.toThrow();
  });
});

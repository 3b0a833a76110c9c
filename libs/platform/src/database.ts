import { Pool } from 'pg';
import { DataSource, MigrationExecutor, type MixedList } from 'typeorm';

export interface DatabaseOptions {
  readonly url: string;
  /** The service's own schema; no service reads another's tables. */
  readonly schema: string;
  readonly applicationName: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly migrations: MixedList<Function>;
  readonly poolSize?: number;
}

/**
 * Opens the service's TypeORM data source on its own schema and applies the committed migrations
 * (never `synchronize`). Each migration runs in its own transaction.
 */
export async function openDatabase(options: DatabaseOptions): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    applicationName: options.applicationName,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: { max: options.poolSize ?? 10, options: `-c search_path=${options.schema}` },
  });
  await dataSource.initialize();
  // In production the schema is made by the deployment with its owner role; a service role need
  // not have CREATE on the database, so only create what is missing (tests use throw-away schemas).
  const [{ present }] = await dataSource.query(`SELECT count(*)::int AS present FROM pg_namespace WHERE nspname = $1`, [options.schema]);
  if (present === 0) await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
  await migrateSerialized(dataSource, options.schema);
  return dataSource;
}

/**
 * Replicas of one service start together (a rollout, an HPA scale-up, the migrations Job beside
 * them): only one may run the migrations at a time, the others wait and then find nothing to do.
 * A session advisory lock keyed by the schema, held on one connection for the duration; the
 * migrations run on that same connection, so a small pool can never starve them.
 */
async function migrateSerialized(dataSource: DataSource, schema: string): Promise<void> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query(`SELECT pg_advisory_lock(hashtext($1))`, [`metaweave-migrations:${schema}`]);
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      await executor.executePendingMigrations();
    } finally {
      await runner.query(`SELECT pg_advisory_unlock(hashtext($1))`, [`metaweave-migrations:${schema}`]);
    }
  } finally {
    await runner.release();
  }
}

/** A small plain pg pool on the same schema, for the outbox relay's dedicated connections. */
export function openPool(options: Pick<DatabaseOptions, 'url' | 'schema' | 'applicationName' | 'poolSize'>): Pool {
  return new Pool({
    connectionString: options.url,
    application_name: options.applicationName,
    max: options.poolSize ?? 3,
    options: `-c search_path=${options.schema}`,
  });
}

import { Pool } from 'pg';
import { connectorSpaceSql } from '@metaweave/connector-runtime';
import { stackEnv, uniqueSuffix } from '@metaweave/testing';
import { ExportState1732320000060, exportStateSql } from './1732320000060-export-state';

/** A schema migrated before export_state existed gets it; a current one is left as it is. */
describe('migration ExportState1732320000060', () => {
  const pool = new Pool({ connectionString: stackEnv()['MW_PG_ADMIN_URL'], max: 1 });
  const schema = `mig_${uniqueSuffix()}`;
  const runner = { query: (sql: string) => pool.query(sql), connection: { driver: { schema } } };
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });
  const hasTable = async () => (await pool.query(`SELECT to_regclass($1) AS t`, [`"${schema}".export_state`])).rows[0].t !== null;

  it('creates export_state where an older Init left it out, and is a no-op where it exists', async () => {
    await pool.query(`CREATE SCHEMA "${schema}"`);
    for (const sql of connectorSpaceSql(schema).filter((s) => !s.includes('export_state'))) await pool.query(sql);
    expect(await hasTable()).toBe(false);
    await new ExportState1732320000060().up(runner as never);
    expect(await hasTable()).toBe(true);
    await pool.query(`INSERT INTO "${schema}".export_state (export_id, connector, partition, dn, op, command, status) VALUES (gen_random_uuid(), 'exchange', 'S', 'cn=x', 'add', '{}', 'failed')`);
    await new ExportState1732320000060().up(runner as never); // again: nothing lost
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".export_state`)).rows[0].n).toBe(1);
    expect(exportStateSql(schema)).toHaveLength(2);
  });
});

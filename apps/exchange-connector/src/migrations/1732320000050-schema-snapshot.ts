import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The last schema each connector instance discovered, for `mw schema refresh exchange`. */
export class SchemaSnapshot1732320000050 implements MigrationInterface {
  name = 'SchemaSnapshot1732320000050';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE schema_snapshot (connector text PRIMARY KEY, schema jsonb NOT NULL, taken_at timestamptz NOT NULL DEFAULT now())`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE schema_snapshot`);
  }
}

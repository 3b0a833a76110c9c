import { outboxTableSql } from '@metaweave/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The Exchange connector space, its run history and its outbox. */
export class Init1732320000000 implements MigrationInterface {
  name = 'Init1732320000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE cs_object (
        anchor text PRIMARY KEY,
        partition text NOT NULL,
        dn text NOT NULL,
        object_type text NOT NULL,
        attributes jsonb NOT NULL,
        version integer NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX cs_object_partition_idx ON cs_object (partition) WHERE NOT deleted`);
    await q.query(`
      CREATE TABLE run (
        id uuid PRIMARY KEY,
        connector text NOT NULL,
        partition text NOT NULL,
        step text NOT NULL,
        status text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        counters jsonb,
        deletes_withheld integer NOT NULL DEFAULT 0,
        errors jsonb NOT NULL DEFAULT '[]',
        message text
      )`);
    await q.query(outboxTableSql(q.connection.driver.schema ?? 'public'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbox`);
    await q.query(`DROP TABLE run`);
    await q.query(`DROP TABLE cs_object`);
  }
}

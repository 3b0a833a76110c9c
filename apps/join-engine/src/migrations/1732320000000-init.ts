import { outboxTableSql } from '@metaweave/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The metaverse write model: MV objects, CS↔MV links, the inbox of processed events, the outbox. */
export class Init1732320000000 implements MigrationInterface {
  name = 'Init1732320000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mv_object (
        id uuid PRIMARY KEY,
        object_type text NOT NULL,
        version integer NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        attributes jsonb NOT NULL,
        connectors jsonb NOT NULL
      )`);
    await q.query(`
      CREATE TABLE cs_link (
        connector text NOT NULL,
        anchor text NOT NULL,
        mv_object_id uuid NOT NULL REFERENCES mv_object (id),
        cs_version integer NOT NULL,
        PRIMARY KEY (connector, anchor)
      )`);
    await q.query(`CREATE TABLE inbox (event_id uuid PRIMARY KEY, processed_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(outboxTableSql(q.connection.driver.schema ?? 'public'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbox`);
    await q.query(`DROP TABLE inbox`);
    await q.query(`DROP TABLE cs_link`);
    await q.query(`DROP TABLE mv_object`);
  }
}

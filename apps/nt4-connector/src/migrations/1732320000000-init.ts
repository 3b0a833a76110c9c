import { connectorSpaceSql } from '@metaweave/connector-runtime';
import { outboxTableSql } from '@metaweave/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The NT4 connector space (objects, watermarks, runs, object errors) and its outbox. */
export class Init1732320000000 implements MigrationInterface {
  name = 'Init1732320000000';

  async up(q: QueryRunner): Promise<void> {
    const schema = q.connection.driver.schema ?? 'public';
    for (const sql of connectorSpaceSql(schema)) await q.query(sql);
    await q.query(outboxTableSql(schema));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['outbox', 'object_error', 'run', 'watermark', 'cs_object']) await q.query(`DROP TABLE ${table}`);
  }
}

import { connectorSpaceSql } from '@metaweave/connector-runtime';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `export_state` (the export idempotency record) joined the connector-space DDL after Init had
 * already run on existing databases: a schema migrated before that has no table and every export
 * command is dead-lettered ("relation export_state does not exist"). Creates it where missing.
 */
export class ExportState1732320000060 implements MigrationInterface {
  name = 'ExportState1732320000060';

  async up(q: QueryRunner): Promise<void> {
    const schema = q.connection.driver.schema ?? 'public';
    for (const sql of exportStateSql(schema)) await q.query(sql);
  }

  async down(): Promise<void> {
    // Init owns the table on new databases: nothing to undo.
  }
}

/** The export_state statements of the connector-space DDL, made idempotent. */
export function exportStateSql(schema: string): string[] {
  return connectorSpaceSql(schema)
    .filter((sql) => sql.includes('export_state'))
    .map((sql) => sql.replace(/^CREATE TABLE /, 'CREATE TABLE IF NOT EXISTS ').replace(/^CREATE INDEX /, 'CREATE INDEX IF NOT EXISTS '));
}

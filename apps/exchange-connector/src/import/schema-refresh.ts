import type { ConnectorSchema } from '@metaweave/connector-sdk';
import { quoteIdent } from '@metaweave/messaging';
import type { DataSource } from 'typeorm';
import { diffSchema, type SchemaDiff } from '../directory/schema-diff';

/**
 * MIIS's "Refresh schema": discovers the directory's schema now, reports what was added, removed or
 * changed since the last refresh, and keeps the new one as the reference (table `schema_snapshot`).
 */
export async function refreshSchema(
  db: DataSource,
  schema: string,
  connector: string,
  discover: () => Promise<ConnectorSchema>,
): Promise<SchemaDiff & { readonly previousAt: string | null; readonly takenAt: string }> {
  const now = await discover();
  return db.transaction(async (tx) => {
    const s = quoteIdent(schema);
    const [last] = await tx.query(`SELECT schema, taken_at FROM ${s}.schema_snapshot WHERE connector = $1 FOR UPDATE`, [connector]);
    const [{ taken_at }] = await tx.query(
      `INSERT INTO ${s}.schema_snapshot (connector, schema) VALUES ($1, $2)
       ON CONFLICT (connector) DO UPDATE SET schema = EXCLUDED.schema, taken_at = now() RETURNING taken_at`,
      [connector, JSON.stringify(now)],
    );
    return {
      ...diffSchema((last?.schema as ConnectorSchema | undefined) ?? null, now),
      previousAt: last ? new Date(last.taken_at).toISOString() : null,
      takenAt: new Date(taken_at).toISOString(),
    };
  });
}

import { outboxTableSql, quoteIdent } from '@metaweave/messaging';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { connectorSpaceSql } from './schema';

/**
 * Test support (excluded from the build): a throw-away schema holding a connector space and an
 * outbox, as a connector service's migrations make them, and a data source on it for a RunDriver.
 */
export async function openConnectorSpace(pool: Pool, url: string, schema: string, poolSize = 3): Promise<DataSource> {
  await pool.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  for (const sql of connectorSpaceSql(schema)) await pool.query(sql);
  await pool.query(outboxTableSql(schema));
  const db = new DataSource({ type: 'postgres', url, schema, synchronize: false, logging: false, extra: { max: poolSize } });
  await db.initialize();
  return db;
}

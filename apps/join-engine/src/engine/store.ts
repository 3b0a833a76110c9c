import type { PoolClient } from 'pg';
import { joinKeysOf, indexEntries, REF_KEY, valueKey, type CsRecord, type MetaverseReader, type MvObject, type RuleSet, type SyncOutcome } from '@metaweave/sync-rules';

/** An MV object changed under us between read and write (another replica). Retriable. */
export class ConcurrencyConflict extends Error {
  readonly retriable = true;
  constructor(mvObjectId: string, expected: number) {
    super(`metaverse object ${mvObjectId} is no longer at version ${expected}`);
    this.name = 'ConcurrencyConflict';
  }
}

interface CsRow {
  connector: string;
  anchor: string;
  partition: string;
  object_type: string;
  dn: string;
  attributes: CsRecord['attributes'];
  cs_version: number;
  state: CsRecord['state'];
  mv_object_id: string | null;
  pending_export: CsRecord['pendingExport'];
}

const toCs = (r: CsRow): CsRecord => ({
  connector: r.connector,
  anchor: r.anchor,
  partition: r.partition,
  objectType: r.object_type,
  dn: r.dn,
  attributes: r.attributes,
  csVersion: r.cs_version,
  state: r.state,
  mvObjectId: r.mv_object_id,
  pendingExport: r.pending_export,
});

/**
 * The write model in PostgreSQL, read inside the caller's transaction. With `lock`, rows read are
 * locked (FOR UPDATE) until the transaction ends; preview reads without locks and never writes.
 */
export class PgMetaverse implements MetaverseReader {
  constructor(
    private readonly client: PoolClient,
    private readonly lock: boolean,
  ) {}

  private get forUpdate(): string {
    return this.lock ? ' FOR UPDATE' : '';
  }

  async getCs(connector: string, anchor: string): Promise<CsRecord | undefined> {
    const { rows } = await this.client.query<CsRow>(`SELECT * FROM cs_link WHERE connector = $1 AND anchor = $2${this.forUpdate}`, [connector, anchor]);
    return rows[0] ? toCs(rows[0]) : undefined;
  }

  async getMv(id: string): Promise<MvObject | undefined> {
    const { rows } = await this.client.query(`SELECT * FROM mv_object WHERE id = $1${this.forUpdate}`, [id]);
    const r = rows[0];
    if (!r) return undefined;
    return { id: r.id, objectType: r.object_type, version: r.version, deleted: r.deleted, contributions: r.contributions, connectors: r.connectors, provisioning: r.provisioning };
  }

  async findMv(mvType: string | undefined, attribute: string, key: string): Promise<string[]> {
    const { rows } = await this.client.query<{ id: string }>(
      `SELECT DISTINCT mv_object_id AS id FROM mv_index WHERE attribute = $1 AND value_key = $2 AND ($3::text IS NULL OR mv_type = $3) ORDER BY 1`,
      [attribute, key, mvType ?? null],
    );
    return rows.map((r) => r.id);
  }

  async disconnectorsWithKey(attribute: string, key: string): Promise<{ connector: string; anchor: string }[]> {
    const { rows } = await this.client.query<{ connector: string; anchor: string }>(
      `SELECT DISTINCT k.connector, k.anchor FROM cs_join_key k JOIN cs_link l USING (connector, anchor)
       WHERE k.attribute = $1 AND k.value_key = $2 AND l.state = 'disconnector' ORDER BY 1, 2`,
      [attribute, key],
    );
    return rows;
  }

  async provisionedMv(connector: string, dn: string): Promise<string | undefined> {
    const { rows } = await this.client.query<{ id: string }>(`SELECT mv_object_id AS id FROM pending_provision WHERE connector = $1 AND dn_lower = $2`, [connector, dn.toLowerCase()]);
    return rows[0]?.id;
  }

  async referrers(connector: string, anchor: string): Promise<{ connector: string; anchor: string }[]> {
    const { rows } = await this.client.query<{ connector: string; anchor: string }>(
      `SELECT DISTINCT connector, anchor FROM cs_join_key WHERE connector = $1 AND attribute = $2 AND value_key = $3 ORDER BY 1, 2`,
      [connector, REF_KEY, valueKey({ ref: anchor })],
    );
    return rows;
  }

  async referencing(mvId: string): Promise<string[]> {
    const { rows } = await this.client.query<{ id: string }>(`SELECT from_id AS id FROM mv_ref WHERE to_id = $1 ORDER BY 1`, [mvId]);
    return rows.map((r) => r.id);
  }
}

/** Transaction-scoped advisory locks on join keys, in sorted order (no lock-order deadlocks among them). */
export async function lockJoinKeys(client: PoolClient, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  // One round trip; the subquery's ORDER BY fixes the order the locks are taken in.
  await client.query(`SELECT count(pg_advisory_xact_lock(hashtextextended(k, 7101))) FROM (SELECT k FROM unnest($1::text[]) AS k ORDER BY k) AS keys`, [[...keys].sort()]);
}

/**
 * Writes what a session decided, in the caller's transaction: CS records (+ their join keys), MV
 * state with an optimistic version check, the MV event store, the join index, pending
 * provisioning and per-object errors. Outbox rows are the caller's (it owns the envelopes).
 */
export async function persistOutcome(client: PoolClient, ruleset: RuleSet, outcome: SyncOutcome, eventIds: ReadonlyMap<string, string>, now: Date): Promise<void> {
  for (const d of outcome.cs.deletes) {
    await client.query(`DELETE FROM cs_link WHERE connector = $1 AND anchor = $2`, [d.connector, d.anchor]);
    await client.query(`DELETE FROM cs_join_key WHERE connector = $1 AND anchor = $2`, [d.connector, d.anchor]);
    await client.query(`DELETE FROM sync_error WHERE connector = $1 AND anchor = $2`, [d.connector, d.anchor]);
  }
  for (const r of outcome.cs.upserts) {
    await client.query(
      `INSERT INTO cs_link (connector, anchor, partition, object_type, dn, attributes, cs_version, state, mv_object_id, pending_export)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (connector, anchor) DO UPDATE SET partition = EXCLUDED.partition, object_type = EXCLUDED.object_type, dn = EXCLUDED.dn,
         attributes = EXCLUDED.attributes, cs_version = EXCLUDED.cs_version, state = EXCLUDED.state, mv_object_id = EXCLUDED.mv_object_id,
         pending_export = EXCLUDED.pending_export`,
      [r.connector, r.anchor, r.partition, r.objectType, r.dn, JSON.stringify(r.attributes), r.csVersion, r.state, r.mvObjectId, JSON.stringify(r.pendingExport)],
    );
    const keys = joinKeysOf(ruleset, r);
    await client.query(
      `WITH gone AS (DELETE FROM cs_join_key WHERE connector = $1 AND anchor = $2)
       INSERT INTO cs_join_key (connector, anchor, attribute, value_key) SELECT $1, $2, a, k FROM unnest($3::text[], $4::text[]) AS t(a, k)`,
      [r.connector, r.anchor, keys.map((k) => k.attribute), keys.map((k) => k.key)],
    );
  }
  for (const change of outcome.mv) {
    const mv = change.mv;
    const derived = change.event ? { attributes: change.event.attributes, connectors: change.event.connectors } : null;
    if (change.expectedVersion === 0) {
      const inserted = await client.query(
        `INSERT INTO mv_object (id, object_type, version, deleted, attributes, connectors, contributions, provisioning)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
        [mv.id, mv.objectType, mv.version, mv.deleted, JSON.stringify(derived?.attributes ?? {}), JSON.stringify(mv.connectors), JSON.stringify(mv.contributions), JSON.stringify(mv.provisioning)],
      );
      if (inserted.rowCount !== 1) throw new ConcurrencyConflict(mv.id, 0);
    } else {
      const updated = await client.query(
        `UPDATE mv_object SET object_type = $2, version = $3, deleted = $4, attributes = COALESCE($5::jsonb, attributes), connectors = $6,
           contributions = $7, provisioning = $8 WHERE id = $1 AND version = $9`,
        [mv.id, mv.objectType, mv.version, mv.deleted, derived ? JSON.stringify(derived.attributes) : null, JSON.stringify(mv.connectors), JSON.stringify(mv.contributions), JSON.stringify(mv.provisioning), change.expectedVersion],
      );
      if (updated.rowCount !== 1) throw new ConcurrencyConflict(mv.id, change.expectedVersion);
    }
    if (change.event) {
      // The event store: a second writer of the same version fails on the primary key.
      await client.query(`INSERT INTO mv_event (mv_object_id, version, event_id, data) VALUES ($1, $2, $3, $4)`, [mv.id, change.event.version, eventIds.get(mv.id), JSON.stringify(change.event)]);
    }
    if (change.event) {
      const targets = mv.deleted ? [] : [...new Set(Object.values(change.event.attributes).flatMap((vs) => vs.flatMap((v) => (typeof v === 'object' && 'ref' in v ? [v.ref] : []))))];
      await client.query(
        // Only rows not kept are deleted: a row deleted and re-inserted by one statement would conflict with itself.
        `WITH gone AS (DELETE FROM mv_ref WHERE from_id = $1 AND to_id <> ALL($2::uuid[]))
         INSERT INTO mv_ref (from_id, to_id) SELECT $1, t FROM unnest($2::uuid[]) AS t ON CONFLICT DO NOTHING`,
        [mv.id, targets],
      );
    }
    const index = indexEntries(ruleset, mv);
    await client.query(
      `WITH gone AS (DELETE FROM mv_index WHERE mv_object_id = $1)
       INSERT INTO mv_index (mv_object_id, mv_type, attribute, value_key) SELECT $1, $2, a, k FROM unnest($3::text[], $4::text[]) AS t(a, k)`,
      [mv.id, mv.objectType, index.map((e) => e.attribute), index.map((e) => e.key)],
    );
    if (mv.provisioning.length > 0 || change.expectedVersion > 0) {
      await client.query(
        `WITH gone AS (DELETE FROM pending_provision WHERE mv_object_id = $1 AND (connector, dn_lower) NOT IN (SELECT * FROM unnest($2::text[], $3::text[])))
         INSERT INTO pending_provision (connector, dn_lower, mv_object_id, export_id)
         SELECT c, d, $1, x FROM unnest($2::text[], $3::text[], $4::uuid[]) AS t(c, d, x) ON CONFLICT DO NOTHING`,
        [mv.id, mv.provisioning.map((p) => p.connector), mv.provisioning.map((p) => p.dn.toLowerCase()), mv.provisioning.map((p) => p.exportId)],
      );
    }
  }
  for (const s of outcome.succeeded) {
    if (!outcome.errors.some((e) => e.connector === s.connector && e.anchor === s.anchor)) {
      await client.query(`DELETE FROM sync_error WHERE connector = $1 AND anchor = $2`, [s.connector, s.anchor]);
    }
  }
  for (const e of outcome.errors) {
    await client.query(
      `INSERT INTO sync_error (connector, anchor, dn, type, message, first_occurred, last_occurred, retry_count) VALUES ($1, $2, $3, $4, $5, $6, $6, 0)
       ON CONFLICT (connector, anchor) DO UPDATE SET dn = EXCLUDED.dn, message = EXCLUDED.message, last_occurred = EXCLUDED.last_occurred,
         type = EXCLUDED.type,
         first_occurred = CASE WHEN sync_error.type = EXCLUDED.type THEN sync_error.first_occurred ELSE EXCLUDED.first_occurred END,
         retry_count = CASE WHEN sync_error.type = EXCLUDED.type THEN sync_error.retry_count + 1 ELSE 0 END`,
      [e.connector, e.anchor, e.dn, e.type, e.message, now.toISOString()],
    );
  }
}

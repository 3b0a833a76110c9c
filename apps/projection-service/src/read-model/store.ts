import type { Message } from '@metaweave/contracts';
import type { BatchItem } from '@metaweave/messaging';
import { foldMvEvents, latestBy } from './apply';

/**
 * The read model's SQL: every write is one statement per table per batch (rows travel as one JSON
 * array through `jsonb_to_recordset`), never a round trip per row. Every table name is qualified
 * with the schema that holds the read model, so a replay can build a second one next to the live one.
 */
export interface Sql {
  query(sql: string, params?: unknown[]): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function ident(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`'${schema}' is not a schema name this service uses`);
  return `"${schema}"`;
}

/** Tables that are a function of the MV event stream (compared by the checksum, rebuilt by a replay). */
export const MV_TABLES = ['mv_object', 'mv_object_event', 'mv_connector'] as const;
/** Tables fed by the run, export and password topics (finite retention: copied, not replayed). */
export const OPS_TABLES = ['run', 'run_error', 'export_outcome', 'password_outcome'] as const;

const json = (v: unknown) => JSON.stringify(v);

export async function applyMvBatch(tx: Sql, schema: string, items: readonly BatchItem[]): Promise<void> {
  if (items.length === 0) return;
  const s = ident(schema);
  const events = items.map((i) => i.message as Message<'mv.object.changed'>);
  await tx.query(
    `INSERT INTO ${s}.mv_object_event (event_id, mv_object_id, version, change, correlation_id, occurred_at, kafka_partition, kafka_offset)
     SELECT r.event_id, r.mv_object_id, r.version, r.change, r.correlation_id, r.occurred_at, r.kafka_partition, r.kafka_offset
       FROM jsonb_to_recordset($1::jsonb) AS r(event_id uuid, mv_object_id uuid, version int, change text, correlation_id text, occurred_at timestamptz, kafka_partition int, kafka_offset bigint)
     ON CONFLICT (event_id) DO NOTHING`,
    [
      json(
        items.map(({ message, ctx }) => {
          const e = message as Message<'mv.object.changed'>;
          return {
            event_id: e.eventId,
            mv_object_id: e.data.mvObjectId,
            version: e.data.version,
            change: e.data.change,
            correlation_id: e.correlationId,
            occurred_at: e.occurredAt,
            kafka_partition: ctx.partition,
            kafka_offset: ctx.offset,
          };
        }),
      ),
    ],
  );
  const rows = foldMvEvents(events);
  const changed: { id: string }[] = await tx.query(
    `INSERT INTO ${s}.mv_object AS o (id, object_type, version, deleted, attributes, connectors, lineage, rules_version, reason, last_event_id, updated_at)
     SELECT r.id, r.object_type, r.version, r.deleted, r.attributes, r.connectors, r.lineage, r.rules_version, r.reason, r.last_event_id, r.updated_at
       FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, object_type text, version int, deleted boolean, attributes jsonb, connectors jsonb, lineage jsonb,
                                              rules_version text, reason text, last_event_id uuid, updated_at timestamptz)
     ON CONFLICT (id) DO UPDATE SET object_type = EXCLUDED.object_type, version = EXCLUDED.version, deleted = EXCLUDED.deleted,
       attributes = EXCLUDED.attributes, connectors = EXCLUDED.connectors, lineage = EXCLUDED.lineage, rules_version = EXCLUDED.rules_version,
       reason = EXCLUDED.reason, last_event_id = EXCLUDED.last_event_id, updated_at = EXCLUDED.updated_at
     WHERE o.version < EXCLUDED.version
     RETURNING o.id`,
    [
      json(
        rows.map((r) => ({
          id: r.id,
          object_type: r.objectType,
          version: r.version,
          deleted: r.deleted,
          attributes: r.attributes,
          connectors: r.connectors,
          lineage: r.lineage,
          rules_version: r.rulesVersion,
          reason: r.reason,
          last_event_id: r.lastEventId,
          updated_at: r.updatedAt,
        })),
      ),
    ],
  );
  if (changed.length === 0) return;
  const ids = new Set(changed.map((c) => c.id));
  await tx.query(`DELETE FROM ${s}.mv_connector WHERE mv_object_id = ANY($1::uuid[])`, [[...ids]]);
  const links = rows.filter((r) => ids.has(r.id) && !r.deleted).flatMap((r) => r.connectors.map((c) => ({ mv_object_id: r.id, ...c })));
  if (links.length > 0) {
    await tx.query(
      `INSERT INTO ${s}.mv_connector (mv_object_id, connector, anchor, dn, state)
       SELECT r.mv_object_id, r.connector, r.anchor, r.dn, r.state FROM jsonb_to_recordset($1::jsonb) AS r(mv_object_id uuid, connector text, anchor text, dn text, state text)
       ON CONFLICT DO NOTHING`,
      [json(links)],
    );
  }
}

export async function applyRunEvents(tx: Sql, schema: string, items: readonly BatchItem[]): Promise<void> {
  if (items.length === 0) return;
  const s = ident(schema);
  const latest = latestBy(
    items.map((i) => i.message as Message<'run.event'>),
    (m) => m.data.runId,
    (m) => m.data.sequence,
  );
  const changed: { run_id: string }[] = await tx.query(
    `INSERT INTO ${s}.run AS x (run_id, connector, partition, step, status, sequence, started_at, ended_at, counters, error_count, message, source)
     SELECT r.run_id, r.connector, r.partition, r.step, r.status, r.sequence, r.started_at, r.ended_at, r.counters, r.error_count, r.message, r.source
       FROM jsonb_to_recordset($1::jsonb) AS r(run_id uuid, connector text, partition text, step text, status text, sequence int, started_at timestamptz,
                                              ended_at timestamptz, counters jsonb, error_count int, message text, source text)
     ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, sequence = EXCLUDED.sequence, ended_at = EXCLUDED.ended_at,
       counters = EXCLUDED.counters, error_count = EXCLUDED.error_count, message = EXCLUDED.message
     WHERE x.sequence < EXCLUDED.sequence
     RETURNING x.run_id`,
    [
      json(
        latest.map(({ data: d, source }) => ({
          run_id: d.runId,
          connector: d.connector,
          partition: d.partition,
          step: d.step,
          status: d.status,
          sequence: d.sequence,
          started_at: d.startedAt,
          ended_at: d.endedAt,
          counters: d.counters,
          error_count: d.errors.length,
          message: d.message,
          source,
        })),
      ),
    ],
  );
  if (changed.length === 0) return;
  const ids = new Set(changed.map((c) => c.run_id));
  await tx.query(`DELETE FROM ${s}.run_error WHERE run_id = ANY($1::uuid[])`, [[...ids]]);
  const errors = latest
    .filter((m) => ids.has(m.data.runId))
    .flatMap((m) => m.data.errors.map((e, seq) => ({ run_id: m.data.runId, seq, anchor: e.anchor, dn: e.dn, type: e.type, message: e.message, first_occurred: e.firstOccurred, retry_count: e.retryCount })));
  if (errors.length > 0) {
    await tx.query(
      `INSERT INTO ${s}.run_error (run_id, seq, anchor, dn, type, message, first_occurred, retry_count)
       SELECT r.run_id, r.seq, r.anchor, r.dn, r.type, r.message, r.first_occurred, r.retry_count
         FROM jsonb_to_recordset($1::jsonb) AS r(run_id uuid, seq int, anchor text, dn text, type text, message text, first_occurred timestamptz, retry_count int)`,
      [json(errors)],
    );
  }
}

export async function applyExportOutcomes(tx: Sql, schema: string, items: readonly BatchItem[]): Promise<void> {
  if (items.length === 0) return;
  const s = ident(schema);
  const latest = latestBy(
    items.map((i) => i.message as Message<'export.outcome'>),
    (m) => m.data.exportId,
    (m) => m.data.attempt,
  );
  await tx.query(
    `INSERT INTO ${s}.export_outcome AS x (export_id, connector, partition, op, anchor, dn, status, error, not_reimported, attempt, occurred_at)
     SELECT r.export_id, r.connector, r.partition, r.op, r.anchor, r.dn, r.status, r.error, r.not_reimported, r.attempt, r.occurred_at
       FROM jsonb_to_recordset($1::jsonb) AS r(export_id uuid, connector text, partition text, op text, anchor text, dn text, status text, error jsonb,
                                              not_reimported jsonb, attempt int, occurred_at timestamptz)
     ON CONFLICT (export_id) DO UPDATE SET anchor = EXCLUDED.anchor, dn = EXCLUDED.dn, status = EXCLUDED.status, error = EXCLUDED.error,
       not_reimported = EXCLUDED.not_reimported, attempt = EXCLUDED.attempt, occurred_at = EXCLUDED.occurred_at
     WHERE (x.attempt, x.occurred_at) < (EXCLUDED.attempt, EXCLUDED.occurred_at)`,
    [
      json(
        latest.map(({ data: d, occurredAt }) => ({
          export_id: d.exportId,
          connector: d.connector,
          partition: d.partition,
          op: d.op,
          anchor: d.anchor,
          dn: d.dn,
          status: d.status,
          error: d.error,
          not_reimported: d.notReimported,
          attempt: d.attempt,
          occurred_at: occurredAt,
        })),
      ),
    ],
  );
}

/** Password outcomes carry no secret by contract; only these columns are kept. */
export async function applyPasswordOutcomes(tx: Sql, schema: string, items: readonly BatchItem[]): Promise<void> {
  if (items.length === 0) return;
  const s = ident(schema);
  await tx.query(
    `INSERT INTO ${s}.password_outcome (command_id, operation_id, connector, domain, anchor, account_name, op, result, message, completed_at)
     SELECT r.command_id, r.operation_id, r.connector, r.domain, r.anchor, r.account_name, r.op, r.result, r.message, r.completed_at
       FROM jsonb_to_recordset($1::jsonb) AS r(command_id uuid, operation_id uuid, connector text, domain text, anchor text, account_name text, op text,
                                              result text, message text, completed_at timestamptz)
     ON CONFLICT (command_id) DO NOTHING`,
    [
      json(
        latestBy(
          items.map((i) => i.message as Message<'password.outcome'>),
          (m) => m.data.commandId,
          () => 0,
        ).map(({ data: d }) => ({
          command_id: d.commandId,
          operation_id: d.operationId,
          connector: d.connector,
          domain: d.domain,
          anchor: d.anchor,
          account_name: d.accountName,
          op: d.op,
          result: d.result,
          message: d.message,
          completed_at: d.completedAt,
        })),
      ),
    ],
  );
}

/** The consumed position, written in the same transaction as the rows (style.md §6). */
export async function storeOffset(tx: Sql, schema: string, topic: string, partition: number, nextOffset: string): Promise<void> {
  await tx.query(
    `INSERT INTO ${ident(schema)}.consumer_offset (topic, kafka_partition, next_offset) VALUES ($1, $2, $3)
     ON CONFLICT (topic, kafka_partition) DO UPDATE SET next_offset = GREATEST(consumer_offset.next_offset, EXCLUDED.next_offset)`,
    [topic, partition, nextOffset],
  );
}

export async function storedOffsets(db: Sql, schema: string, topics: readonly string[]): Promise<{ topic: string; partition: number; offset: string }[]> {
  const rows: { topic: string; kafka_partition: number; next_offset: string }[] = await db.query(
    `SELECT topic, kafka_partition, next_offset FROM ${ident(schema)}.consumer_offset WHERE topic = ANY($1)`,
    [topics],
  );
  return rows.map((r) => ({ topic: r.topic, partition: r.kafka_partition, offset: String(r.next_offset) }));
}

/**
 * A digest of the MV part of a read model: per table, the row count and two order-independent
 * sums of each row's md5 (row values as PostgreSQL text; jsonb prints canonically), so no sort and
 * no giant string. Two read models with the same digest hold the same rows (short of an md5
 * collision crafted on purpose).
 */
export async function checksum(db: Sql, schema: string): Promise<{ schema: string; checksum: string; rows: Record<string, number> }> {
  const s = ident(schema);
  const digest = (row: string) =>
    `count(*)::int AS n, coalesce(sum(('x' || substr(md5(${row}::text), 1, 15))::bit(60)::bigint::numeric), 0)::text || '.' ||
     coalesce(sum(('x' || substr(md5(${row}::text), 16, 15))::bit(60)::bigint::numeric), 0)::text AS h`;
  const parts: Record<string, string> = {
    mv_object: `SELECT ${digest('row(id, object_type, version, deleted, attributes, connectors, lineage, rules_version, reason, last_event_id, updated_at)')} FROM ${s}.mv_object`,
    mv_object_event: `SELECT ${digest('row(event_id, mv_object_id, version, change, correlation_id, occurred_at, kafka_partition, kafka_offset)')} FROM ${s}.mv_object_event`,
    mv_connector: `SELECT ${digest('row(mv_object_id, connector, anchor, dn, state)')} FROM ${s}.mv_connector`,
  };
  const rows: Record<string, number> = {};
  const hashes: string[] = [];
  for (const [table, sql] of Object.entries(parts)) {
    const [r] = (await db.query(sql)) as { n: number; h: string }[];
    rows[table] = r!.n;
    hashes.push(`${table}:${r!.n}:${r!.h}`);
  }
  const [{ h }] = (await db.query(`SELECT md5($1) AS h`, [hashes.join('|')])) as { h: string }[];
  return { schema, checksum: h!, rows };
}

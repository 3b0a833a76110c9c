import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { EnvelopeFactory, runKey, TOPICS, type Envelope, type ExportCommandV1, type Message, type RunEventV1 } from '@metaweave/contracts';
import { enqueueOutbox, type OutboxItem } from '@metaweave/messaging';
import { lockKeysOf, SyncSession, type ObjectError, type SyncOutcome } from '@metaweave/sync-rules';
import { ConcurrencyConflict, lockJoinKeys, persistOutcome, PgMetaverse } from './store';
import type { RulesHolder } from './rules-holder';

export interface JoinEngineOptions {
  readonly pool: Pool;
  readonly schema: string;
  readonly topicPrefix: string;
  readonly rules: RulesHolder;
  readonly source?: string;
  readonly clock?: () => Date;
  /** Attempts of one transaction on a concurrency conflict or deadlock. Default 8. */
  readonly attempts?: number;
  /** Called between the state write and the commit (tests use it to crash there). */
  readonly beforeCommit?: () => Promise<void>;
}

export interface FullSyncResult {
  readonly runId: string;
  readonly status: RunEventV1['status'];
  readonly objects: number;
  readonly counters: Record<string, number>;
  readonly heldDeletes: number;
  readonly errors: number;
}

export interface PreviewResult {
  readonly rulesVersion: string;
  readonly csObject: { connector: string; anchor: string; objectType: string; dn: string; state: string; mvObjectId: string | null } | null;
  readonly trace: readonly string[];
  readonly metaverse: { mvObjectId: string; change: string; attributes: unknown; lineage: unknown; connectors: unknown }[];
  readonly exports: readonly ExportCommandV1[];
  readonly errors: readonly ObjectError[];
}

const RETRY_CODES = new Set(['40001', '40P01']);

/**
 * The join engine's shell around the pure SyncSession: one PostgreSQL transaction per CS event
 * (inbox → join-key locks → evaluate → write model + outbox), full synchronization, preview and
 * held deletes. No Nest here: the service wraps it, the integration tests run two of them.
 */
export class JoinEngine {
  private readonly envelopes: EnvelopeFactory;
  private readonly clock: () => Date;

  constructor(private readonly options: JoinEngineOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.envelopes = new EnvelopeFactory({ source: options.source ?? 'join-engine', clock: this.clock });
  }

  get rulesVersion(): string {
    return this.options.rules.current.version;
  }

  /** Processes one CS change event exactly once (inbox), under locks on its join keys. */
  async handle(message: Message<'cs.object.changed'>): Promise<void> {
    const change = message.data;
    await this.transaction(async (client) => {
      const fresh = await client.query(`INSERT INTO inbox (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING event_id`, [message.eventId]);
      if (fresh.rowCount === 0) return;
      const ruleset = this.options.rules.current;
      await lockJoinKeys(client, lockKeysOf(ruleset, change));
      const session = new SyncSession(ruleset, new PgMetaverse(client, true), { now: this.clock, newId: randomUUID });
      await session.applyChange(change);
      await this.commit(client, await session.finish(), message, null);
    });
  }

  /** Full synchronization: every CS object (of one connector, or all) under the current rules. */
  async fullSync(connector?: string, runId: string = randomUUID()): Promise<FullSyncResult> {
    const startedAt = this.clock().toISOString();
    const scope = connector ?? 'all';
    let sequence = 0;
    const counters: Record<string, number> = {};
    const errors: RunEventV1['errors'][number][] = [];
    await this.emitRun({ runId, connector: scope, partition: 'all', step: 'full-sync', status: 'running', sequence: sequence++, startedAt, endedAt: null, counters: {}, errors: [], message: null });
    const { rows } = await this.options.pool.query<{ connector: string; anchor: string }>(
      `SELECT connector, anchor FROM cs_link WHERE ($1::text IS NULL OR connector = $1) ORDER BY connector, anchor`,
      [connector ?? null],
    );
    for (const row of rows) {
      await this.transaction(async (client) => {
        const current = await client.query(`SELECT object_type, dn, partition, attributes FROM cs_link WHERE connector = $1 AND anchor = $2`, [row.connector, row.anchor]);
        const r = current.rows[0];
        if (!r) return;
        const ruleset = this.options.rules.current;
        if (!ruleset.rules.connectors[row.connector]) {
          counters['unknownConnector'] = (counters['unknownConnector'] ?? 0) + 1;
          return;
        }
        await lockJoinKeys(client, lockKeysOf(ruleset, { connector: row.connector, anchor: row.anchor, objectType: r.object_type, dn: r.dn, partition: r.partition, attributes: r.attributes }));
        const session = new SyncSession(ruleset, new PgMetaverse(client, true), { now: this.clock, newId: randomUUID });
        await session.resync(row.connector, row.anchor);
        const outcome = await session.finish();
        for (const [k, v] of Object.entries(outcome.counters)) counters[k] = (counters[k] ?? 0) + v;
        for (const e of outcome.errors) if (errors.length < 100) errors.push({ anchor: e.anchor, dn: e.dn, type: e.type, message: e.message, firstOccurred: this.clock().toISOString(), retryCount: 0 });
        counters['errors'] = (counters['errors'] ?? 0) + outcome.errors.length;
        await this.commit(client, outcome, null, runId);
      });
    }
    counters['objects'] = rows.length;
    // Deletes of this run were held; release them unless a connector's threshold is exceeded.
    const verdict = await this.thresholdVerdict(runId);
    counters['heldDeletes'] = verdict.held;
    const status: RunEventV1['status'] = verdict.held > 0 ? 'held' : (counters['errors'] ?? 0) > 0 ? 'completed-with-errors' : 'completed';
    await this.emitRun({
      runId,
      connector: scope,
      partition: 'all',
      step: 'full-sync',
      status,
      sequence: sequence++,
      startedAt,
      endedAt: this.clock().toISOString(),
      counters,
      errors,
      message: verdict.message,
    });
    return { runId, status, objects: rows.length, counters, heldDeletes: verdict.held, errors: counters['errors'] ?? 0 };
  }

  /** Releases the held deletes of a run to the connectors. Returns how many were released. */
  async approveHeldDeletes(runId: string): Promise<number> {
    return this.transaction(async (client) => {
      const { rows } = await client.query<{ command: ExportCommandV1 & { __delta?: boolean } }>(`UPDATE held_delete SET approved_at = now() WHERE run_id = $1 AND approved_at IS NULL RETURNING command`, [runId]);
      const step = rows.some((r) => r.command.__delta) ? 'delta-sync' : 'full-sync';
      await this.enqueueExports(
        client,
        rows.map(({ command: { __delta, ...command } }) => (void __delta, command)),
        null,
      );
      if (rows.length > 0) {
        const now = this.clock().toISOString();
        await this.enqueueRun(client, { runId, connector: rows[0]!.command.connector, partition: 'all', step, status: 'completed', sequence: 1_000_000, startedAt: now, endedAt: now, counters: { exportDelete: rows.length, heldDeletes: 0 }, errors: [], message: `${rows.length} held deletes approved and released` });
      }
      return rows.length;
    });
  }

  async heldDeletes(): Promise<{ runId: string; connector: string; count: number; heldAt: string }[]> {
    const { rows } = await this.options.pool.query(
      `SELECT run_id AS "runId", connector, count(*)::int AS count, min(held_at) AS "heldAt" FROM held_delete WHERE approved_at IS NULL GROUP BY run_id, connector ORDER BY 4`,
    );
    return rows;
  }

  /** What synchronizing one stored CS object would do now, without committing anything. */
  async preview(connector: string, anchor: string): Promise<PreviewResult> {
    const client = await this.options.pool.connect();
    try {
      await client.query('BEGIN READ ONLY');
      const reader = new PgMetaverse(client, false);
      const record = await reader.getCs(connector, anchor);
      const ruleset = this.options.rules.current;
      const session = new SyncSession(ruleset, reader, { now: this.clock, newId: randomUUID });
      if (record) await session.resync(connector, anchor);
      const outcome = await session.finish();
      return {
        rulesVersion: ruleset.version,
        csObject: record ? { connector, anchor, objectType: record.objectType, dn: record.dn, state: record.state, mvObjectId: record.mvObjectId } : null,
        trace: outcome.trace,
        metaverse: outcome.mv.filter((m) => m.event).map((m) => ({ mvObjectId: m.mv.id, change: m.event!.change, attributes: m.event!.attributes, lineage: m.event!.lineage, connectors: m.event!.connectors })),
        exports: outcome.exports,
        errors: outcome.errors,
      };
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  }

  async errors(connector?: string): Promise<unknown[]> {
    const { rows } = await this.options.pool.query(
      `SELECT connector, anchor, dn, type, message, first_occurred AS "firstOccurred", last_occurred AS "lastOccurred", retry_count AS "retryCount"
       FROM sync_error WHERE ($1::text IS NULL OR connector = $1) ORDER BY first_occurred LIMIT 1000`,
      [connector ?? null],
    );
    return rows;
  }

  async connectorSpace(connector: string, anchor: string): Promise<unknown> {
    const { rows } = await this.options.pool.query(`SELECT connector, anchor, dn, object_type AS "objectType", state, mv_object_id AS "mvObjectId", cs_version AS "csVersion" FROM cs_link WHERE connector = $1 AND anchor = $2`, [connector, anchor]);
    return rows[0];
  }

  // ---------------------------------------------------------------- internals

  private async commit(client: PoolClient, outcome: SyncOutcome, causedBy: Envelope | null, runId: string | null): Promise<void> {
    const ruleset = this.options.rules.current;
    const items: OutboxItem[] = [];
    const eventIds = new Map<string, string>();
    for (const change of outcome.mv) {
      if (!change.event) continue;
      const envelope = this.envelopes.create({ type: 'mv.object.changed', schemaVersion: 2, data: change.event, ...(causedBy ? { causedBy } : {}) });
      eventIds.set(change.mv.id, envelope.eventId);
      items.push({ topic: this.options.topicPrefix + TOPICS.mvEvents.name, key: change.mv.id, message: envelope as Message });
    }
    await persistOutcome(client, ruleset, outcome, eventIds, this.clock());
    await enqueueOutbox((sql, params) => client.query(sql, params as unknown[]), this.options.schema, items);
    const deletes = runId ? outcome.exports.filter((e) => e.op === 'delete') : await this.gateContinuousDeletes(client, outcome.exports);
    for (const d of runId ? deletes : []) {
      await client.query(`INSERT INTO held_delete (export_id, run_id, connector, command) VALUES ($1, $2, $3, $4)`, [d.exportId, runId, d.connector, JSON.stringify(d)]);
    }
    await this.enqueueExports(
      client,
      outcome.exports.filter((e) => !deletes.includes(e)),
      causedBy,
    );
    if (this.options.beforeCommit) await this.options.beforeCommit();
  }

  private async enqueueExports(client: PoolClient, exports: readonly ExportCommandV1[], causedBy: Envelope | null): Promise<void> {
    const items: OutboxItem[] = exports.map((e) => ({
      topic: this.options.topicPrefix + TOPICS.exportCommands.name,
      key: `${e.connector}/${e.anchor ?? e.dn}`,
      message: this.envelopes.create({ type: 'export.command', schemaVersion: 1, data: e, ...(causedBy ? { causedBy } : {}) }) as Message,
    }));
    await enqueueOutbox((sql, params) => client.query(sql, params as unknown[]), this.options.schema, items);
  }

  /**
   * The deletes a full sync staged stay held when, for some connector, they exceed its
   * threshold (count, or percent of its CS objects); otherwise they are released now.
   */
  private async thresholdVerdict(runId: string): Promise<{ held: number; message: string | null }> {
    const { rows } = await this.options.pool.query<{ connector: string; n: number; total: number }>(
      `SELECT h.connector, count(*)::int AS n, (SELECT count(*)::int FROM cs_link l WHERE l.connector = h.connector) AS total
       FROM held_delete h WHERE h.run_id = $1 AND h.approved_at IS NULL GROUP BY h.connector`,
      [runId],
    );
    const ruleset = this.options.rules.current;
    const over: string[] = [];
    for (const r of rows) {
      const t = ruleset.rules.connectors[r.connector]?.deleteThreshold;
      const pct = r.total > 0 ? (100 * r.n) / r.total : 100;
      if (t && ((t.count !== undefined && r.n > t.count) || (t.percent !== undefined && pct > t.percent))) {
        over.push(`${r.connector}: ${r.n} deletes of ${r.total} objects (${pct.toFixed(0)}%) exceed the threshold${t.count !== undefined ? ` count ${t.count}` : ''}${t.percent !== undefined ? ` percent ${t.percent}` : ''}`);
      }
    }
    if (over.length === 0) {
      await this.approveHeldDeletes(runId);
      return { held: 0, message: null };
    }
    const held = rows.reduce((s, r) => s + r.n, 0);
    return { held, message: `deletes held for approval (mw approve ${runId}): ${over.join('; ')}` };
  }

  /**
   * Continuous synchronization has no run boundary: the deletes exported to a connector within its
   * threshold window count as one delta-sync run. Beyond the threshold they are held (and a `held`
   * run event says so) until approved. Returns the deletes held (not to be published now).
   */
  private async gateContinuousDeletes(client: PoolClient, exports: readonly ExportCommandV1[]): Promise<ExportCommandV1[]> {
    const held: ExportCommandV1[] = [];
    const ruleset = this.options.rules.current;
    for (const d of exports.filter((e) => e.op === 'delete')) {
      const t = ruleset.rules.connectors[d.connector]?.deleteThreshold;
      if (!t) continue;
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 7102))`, [`delete-threshold:${d.connector}`]);
      const { rows } = await client.query<{ recent: number; total: number; open: string | null }>(
        `SELECT (SELECT count(*)::int FROM held_delete WHERE connector = $1 AND held_at > now() - make_interval(mins => $2)) AS recent,
                (SELECT count(*)::int FROM cs_link WHERE connector = $1) AS total,
                (SELECT run_id::text FROM held_delete WHERE connector = $1 AND approved_at IS NULL AND command->>'__delta' = 'true' LIMIT 1) AS open`,
        [d.connector, t.windowMinutes],
      );
      const { recent, total, open } = rows[0]!;
      const n = recent + 1;
      const over = open !== null || (t.count !== undefined && n > t.count) || (t.percent !== undefined && total > 0 && (100 * n) / total > t.percent);
      const runId = open ?? randomUUID();
      await client.query(`INSERT INTO held_delete (export_id, run_id, connector, command, approved_at) VALUES ($1, $2, $3, $4, $5)`, [
        d.exportId,
        runId,
        d.connector,
        JSON.stringify({ ...d, __delta: true }),
        over ? null : this.clock().toISOString(),
      ]);
      if (!over) continue;
      held.push(d);
      if (open === null) {
        const now = this.clock().toISOString();
        await this.enqueueRun(client, {
          runId,
          connector: d.connector,
          partition: 'all',
          step: 'delta-sync',
          status: 'held',
          sequence: 0,
          startedAt: now,
          endedAt: null,
          counters: { heldDeletes: 1 },
          errors: [],
          message: `deletes to ${d.connector} exceed the threshold (${n} within ${t.windowMinutes} min of ${total} objects); held for approval (mw approve ${runId})`,
        });
      }
    }
    return held;
  }

  private async emitRun(event: RunEventV1): Promise<void> {
    await this.transaction((client) => this.enqueueRun(client, event));
  }

  private async enqueueRun(client: PoolClient, event: RunEventV1): Promise<void> {
    const message = this.envelopes.create({ type: 'run.event', schemaVersion: 1, data: event });
    await enqueueOutbox((sql, params) => client.query(sql, params as unknown[]), this.options.schema, [
      { topic: this.options.topicPrefix + TOPICS.runEvents.name, key: runKey(event.connector, event.partition), message: message as Message },
    ]);
  }

  /** One transaction, retried on a concurrency conflict, deadlock or serialization failure. */
  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const attempts = this.options.attempts ?? 8;
    for (let attempt = 1; ; attempt++) {
      const client = await this.options.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (error as { code?: string }).code;
        const conflict = error instanceof ConcurrencyConflict || (code !== undefined && RETRY_CODES.has(code)) || (code === '23505' && /mv_event_pkey|mv_object_pkey/.test(String((error as { constraint?: string }).constraint)));
        if (!conflict || attempt >= attempts) {
          throw error;
        }
        await new Promise((r) => setTimeout(r, Math.min(500, 10 * 2 ** attempt) * (0.5 + Math.random())));
      } finally {
        client.release();
      }
    }
  }
}

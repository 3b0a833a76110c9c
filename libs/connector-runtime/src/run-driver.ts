import { randomUUID } from 'node:crypto';
import { ROOT_CONTEXT, SpanStatusCode, context, propagation, trace, type Span } from '@opentelemetry/api';
import {
  diffObject,
  fullImportDeletes,
  type Connector,
  type CsChange,
  type CsImage,
  type DeltaChange,
  type ObjectError,
  type StoredCsObject,
} from '@metaweave/connector-sdk';
import { EnvelopeFactory, TOPICS, csObjectKey, runKey, type RunEventV1, type RunObjectError, type RunStepName } from '@metaweave/contracts';
import { enqueueOutbox, quoteIdent, type Logger } from '@metaweave/messaging';
import type { DataSource, EntityManager } from 'typeorm';
import { recordRunMetrics } from './metrics';

export type RunStep = 'full-import' | 'delta-import';

export interface RunCounters {
  stageAdd: number;
  stageUpdate: number;
  stageRename: number;
  stageDelete: number;
  stageNoChange: number;
  stageFailure: number;
}

export interface RunRecord {
  readonly id: string;
  readonly connector: string;
  readonly partition: string;
  readonly step: RunStep;
  readonly status: 'running' | 'completed' | 'completed-with-errors' | 'failed' | 'no-change';
  readonly counters: RunCounters;
  readonly deletesWithheld: number;
  readonly message: string | null;
}

/** Another run of the same connector and partition holds the lock (runs never overlap). */
export class RunInProgress extends Error {
  readonly retriable = true;
  constructor(connector: string, partition: string) {
    super(`a run is already in progress on ${connector}/${partition}`);
    this.name = 'RunInProgress';
  }
}

/**
 * Who decides that an operation may touch a partition, when the advisory lock of the driver is
 * not enough (e.g. the NT4 connector's per-domain lease with its log). Resolves with the release
 * function once the caller's turn has come; RunInProgress when `waitMs` passed first.
 */
export interface PartitionLease {
  acquire(partition: string, waitMs: number, purpose: string): Promise<() => Promise<void>>;
}

export interface RunDriverOptions {
  readonly db: DataSource;
  /** The service's database schema (connector space tables and outbox live there). */
  readonly schema: string;
  readonly connector: Connector;
  /** Topic of CS change events (with the service's prefix). */
  readonly topic: string;
  readonly source: string;
  readonly logger: Logger;
  /** Objects staged per transaction. */
  readonly pageSize?: number;
  /** Replaces the driver's own advisory lock; it must lock the same key (`connector/partition`). */
  readonly lease?: PartitionLease;
  /**
   * Topic of run events (`run.event` v1). Default: `mw.run.events` with the prefix of `topic` when
   * `topic` ends in `mw.cs.changes` (so every connector publishes them without new options);
   * `null` turns them off.
   */
  readonly runEventsTopic?: string | null;
  /** Least time between two progress events of one run (default 2000 ms). */
  readonly progressIntervalMs?: number;
}

/** What a run step reports to `recordRun` while it works (export steps, password steps). */
export interface RunProgress {
  readonly id: string;
  readonly counters: Record<string, number>;
  readonly errors: ObjectError[];
}

const PAGE = 500;
const tracer = trace.getTracer('@metaweave/connector-runtime');

/**
 * The run-step driver every connector plugs into. It owns the connector space: it diffs what the
 * connector read against the last imported images, stages CS change events through the outbox in
 * the same transaction as the CS rows, and commits a watermark in the transaction of the last
 * changes it covers — so a watermark is never ahead of its events (invariant 1), and a run killed
 * at any point re-stages nothing twice (unchanged objects emit nothing). Deletes only on positive
 * evidence (invariant 4). One run per connector and partition at a time (advisory lock).
 */
export class RunDriver {
  private readonly envelopes: EnvelopeFactory;
  private readonly s: string;

  private readonly runEventsTopic: string | null;
  /** Run-event state of the runs in progress in this process (sequence, last progress). */
  private readonly live = new Map<string, LiveRun>();

  constructor(private readonly o: RunDriverOptions) {
    this.envelopes = new EnvelopeFactory({ source: o.source });
    this.s = quoteIdent(o.schema);
    const cs = TOPICS.csChanges.name;
    this.runEventsTopic =
      o.runEventsTopic === undefined ? (o.topic.endsWith(cs) ? o.topic.slice(0, -cs.length) + TOPICS.runEvents.name : null) : o.runEventsTopic;
  }

  private get name(): string {
    return this.o.connector.name;
  }

  /**
   * Starts a run step on a partition, waiting up to `waitForLockMs` for a run already there to end
   * (then RunInProgress). Returns the run's id at once and a promise of its record; `record: false`
   * runs without a run row unless the run changed something or failed (continuous delta imports).
   */
  async start(
    step: RunStep,
    partition: string,
    options: { record?: boolean; waitForLockMs?: number } = {},
  ): Promise<{ runId: string; done: Promise<RunRecord> }> {
    this.checkPartition(partition);
    const release = await this.lockPartition(partition, options.waitForLockMs ?? 0, step);
    const runId = randomUUID();
    const record = options.record ?? true;
    try {
      if (record) await this.insertRun(runId, step, partition);
    } catch (error) {
      await release();
      throw error;
    }
    const done = tracer
      .startActiveSpan(step, { attributes: { 'mw.connector': this.name, 'mw.partition': partition, 'mw.run.id': runId } }, (span) =>
        this.execute(runId, step, partition, record, span).finally(() => span.end()),
      )
      .finally(release);
    done.catch(() => undefined);
    return { runId, done };
  }

  checkPartition(partition: string): void {
    if (!this.o.connector.partitions().includes(partition)) {
      throw new Error(`unknown partition '${partition}' of connector ${this.name} (known: ${this.o.connector.partitions().join(', ')})`);
    }
  }

  /**
   * Takes the partition's lease (a PostgreSQL session advisory lock): one run or export at a time
   * per connector partition, across every replica. Waits up to `waitMs`, then RunInProgress.
   * Resolves with the function that releases it.
   */
  async lockPartition(partition: string, waitMs: number, purpose = 'run'): Promise<() => Promise<void>> {
    if (this.o.lease) return this.o.lease.acquire(partition, waitMs, purpose);
    const lock = this.o.db.createQueryRunner();
    await lock.connect();
    const key = `${this.name}/${partition}`;
    let locked = false;
    const deadline = Date.now() + waitMs;
    try {
      for (;;) {
        [{ locked }] = await lock.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [key]);
        if (locked || Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } catch (error) {
      await lock.release();
      throw error;
    }
    if (!locked) {
      await lock.release();
      throw new RunInProgress(this.name, partition);
    }
    return async () => {
      await lock.query(`SELECT pg_advisory_unlock(hashtext($1))`, [key]).catch(() => undefined);
      await lock.release();
    };
  }

  /**
   * Stages what an export's confirming read-back found (the object's image, or its absence after
   * a delete) exactly as an import would, and runs `alsoInTransaction` in the same transaction.
   */
  async stageConfirmation(
    partition: string,
    readBack: CsImage | null,
    deletedAnchor: string | null,
    alsoInTransaction: (tx: EntityManager) => Promise<void>,
  ): Promise<void> {
    const counters: RunCounters = { stageAdd: 0, stageUpdate: 0, stageRename: 0, stageDelete: 0, stageNoChange: 0, stageFailure: 0 };
    await this.o.db.transaction(async (tx) => {
      if (readBack) await this.stageImagesIn(tx, 'export', partition, [readBack], counters);
      if (deletedAnchor) {
        const rows: StoredRow[] = await tx.query(`SELECT * FROM ${this.s}.cs_object WHERE connector = $1 AND anchor = $2 AND NOT deleted FOR UPDATE`, [this.name, deletedAnchor]);
        if (rows[0]) {
          const stored = fromRow(rows[0]);
          await this.stage(tx, 'export', partition, [{ change: 'delete', image: { ...stored, attributes: {} }, previousDn: null, delta: [], version: stored.version + 1 }], counters);
        }
      }
      await alsoInTransaction(tx);
    });
  }

  /**
   * Marks runs left `running` by a process that died (no one holds their partition's lock) as
   * `abandoned`. Their staged changes are committed or rolled back as a whole per transaction;
   * the next run re-reads and re-stages nothing twice.
   */
  async recoverAbandonedRuns(): Promise<number> {
    let recovered = 0;
    for (const partition of this.o.connector.partitions()) {
      const lock = this.o.db.createQueryRunner();
      await lock.connect();
      try {
        const key = `${this.name}/${partition}`;
        const [{ locked }] = await lock.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [key]);
        if (!locked) continue;
        const rows = await lock.query(
          `UPDATE ${this.s}.run SET status = 'abandoned', finished_at = now(), message = 'the connector stopped during this run; the next run picks up'
           WHERE connector = $1 AND partition = $2 AND status = 'running' RETURNING id`,
          [this.name, partition],
        );
        recovered += rows[0]?.length ?? rows.length;
        await lock.query(`SELECT pg_advisory_unlock(hashtext($1))`, [key]);
      } finally {
        await lock.release();
      }
    }
    return recovered;
  }

  /** Inserts the run row and, in the same transaction, the run's first event (`running`). */
  private async insertRun(runId: string, step: RunStepName, partition: string): Promise<void> {
    const live: LiveRun = { runId, step, partition, startedAt: new Date(), sequence: 0, lastProgress: Date.now() };
    await this.o.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${this.s}.run (id, connector, partition, step, status, started_at) VALUES ($1, $2, $3, $4, 'running', $5)`, [
        runId,
        this.name,
        partition,
        step,
        live.startedAt,
      ]);
      await this.runEvent(tx, live, { status: 'running', counters: {}, errors: [], message: null, endedAt: null });
    });
    this.live.set(runId, live);
  }

  /** Enqueues the run's next event in the caller's transaction (through the outbox: never lost). */
  private async runEvent(
    tx: EntityManager,
    live: LiveRun,
    state: { status: RunEventV1['status']; counters: Readonly<Record<string, number>>; errors: readonly RunObjectError[]; message: string | null; endedAt: Date | null },
  ): Promise<void> {
    if (!this.runEventsTopic) return;
    const message = this.envelopes.create({
      type: 'run.event',
      schemaVersion: 1,
      data: {
        runId: live.runId,
        connector: this.name,
        partition: live.partition,
        step: live.step,
        status: state.status,
        sequence: live.sequence++,
        startedAt: live.startedAt.toISOString(),
        endedAt: state.endedAt?.toISOString() ?? null,
        counters: { ...state.counters },
        errors: state.errors.slice(0, 100),
        message: state.message,
      },
    });
    await enqueueOutbox((sql, params) => tx.query(sql, params), this.o.schema, [{ topic: this.runEventsTopic, key: runKey(this.name, live.partition), message }]);
  }

  /** A progress event (`running` with the counters so far) when the last one is old enough. */
  private async progress(tx: EntityManager, runId: string, counters: Readonly<Record<string, number>>): Promise<void> {
    const live = this.live.get(runId);
    if (!live || Date.now() - live.lastProgress < (this.o.progressIntervalMs ?? 2000)) return;
    live.lastProgress = Date.now();
    await this.runEvent(tx, live, { status: 'running', counters, errors: [], message: null, endedAt: null });
  }

  /**
   * Writes a run's final state and its last event in one transaction. The event's errors carry
   * the first-occurred time and retry count the connector space keeps per object.
   */
  private async finishRun(
    runId: string,
    step: string,
    status: RunEventV1['status'],
    counters: Readonly<Record<string, number>>,
    withheld: number,
    errors: readonly ObjectError[],
    message: string | null,
  ): Promise<void> {
    const live = this.live.get(runId);
    this.live.delete(runId);
    await this.o.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE ${this.s}.run SET step = $2, status = $3, finished_at = now(), counters = $4, deletes_withheld = $5, errors = $6, message = $7 WHERE id = $1`,
        [runId, step, status, JSON.stringify(counters), withheld, JSON.stringify(errors.slice(0, 1000)), message],
      );
      if (!live) return;
      live.step = step as RunStepName;
      const known: { object: string; first_occurred: Date; retry_count: number }[] =
        errors.length === 0
          ? []
          : await tx.query(`SELECT object, first_occurred, retry_count FROM ${this.s}.object_error WHERE connector = $1 AND object = ANY($2)`, [
              this.name,
              errors.slice(0, 100).map((e) => e.object),
            ]);
      const byObject = new Map(known.map((k) => [k.object, k]));
      const now = new Date();
      await this.runEvent(tx, live, {
        status,
        counters: { ...counters, deletesWithheld: withheld },
        errors: errors.slice(0, 100).map((e) => {
          const k = byObject.get(e.object);
          const isDn = e.object.includes('=');
          return {
            anchor: isDn ? null : e.object,
            dn: isDn ? e.object : null,
            type: e.type,
            message: e.message,
            firstOccurred: (k ? new Date(k.first_occurred) : now).toISOString(),
            retryCount: k?.retry_count ?? 0,
          };
        }),
        message,
        endedAt: now,
      });
    });
    if (live) recordRunMetrics(this.name, live.partition, step, status, { ...counters, deletesWithheld: withheld });
  }

  /**
   * Records a run step that is not an import (the Export step, password steps): a run row and
   * run events around `work`, which fills in counters and per-object errors as it goes. The step
   * is `failed` if `work` throws, `completed-with-errors` if it reported errors.
   */
  async recordRun<T>(step: RunStepName, partition: string, work: (run: RunProgress) => Promise<T>): Promise<{ run: RunView; result: T | null }> {
    this.checkPartition(partition);
    const runId = randomUUID();
    await this.insertRun(runId, step, partition);
    const run: RunProgress = { id: runId, counters: {}, errors: [] };
    let result: T | null = null;
    let status: RunEventV1['status'];
    let message: string | null = null;
    try {
      result = await work(run);
      status = run.errors.length > 0 ? 'completed-with-errors' : 'completed';
    } catch (error) {
      status = 'failed';
      message = describe(error);
    }
    await this.o.db.transaction((tx) => this.recordObjectErrors(tx, run.errors));
    await this.finishRun(runId, step, status, run.counters, 0, run.errors, message);
    return { run: (await this.getRun(runId))!, result };
  }

  private async execute(runId: string, requested: RunStep, partition: string, recorded: boolean, span: Span): Promise<RunRecord> {
    const counters: RunCounters = { stageAdd: 0, stageUpdate: 0, stageRename: 0, stageDelete: 0, stageNoChange: 0, stageFailure: 0 };
    const errors: ObjectError[] = [];
    let step: RunStep = requested;
    let message: string | null = null;
    let withheld = 0;
    let status: RunRecord['status'];
    const signal = new AbortController().signal;
    try {
      if (step === 'delta-import') {
        const delta = this.o.connector.capabilities.deltaImport;
        if (!delta) throw new Error(`connector ${this.name} has no delta import`);
        const watermark = await this.watermark(partition);
        const result = watermark
          ? await delta.deltaImport(partition, watermark, signal)
          : ({ outcome: 'full-import-required', reason: 'no watermark yet: the first import of a partition is a full import' } as const);
        if (result.outcome === 'full-import-required') {
          step = 'full-import';
          const live = this.live.get(runId);
          if (live) live.step = step;
          message = `delta import not possible (${result.reason}); ran a full import instead`;
          if (!recorded) {
            recorded = true;
            await this.insertRun(runId, step, partition);
          }
          this.o.logger.warn({ runId, partition, reason: result.reason }, 'full import instead of delta');
        } else {
          for (const e of result.errors ?? []) {
            counters.stageFailure++;
            errors.push(e);
          }
          await this.stageDelta(runId, partition, result.changes, result.watermark, delta.strategy, counters, errors);
        }
      }
      if (step === 'full-import') {
        const outcome = { withheld: 0 };
        try {
          await this.fullImport(runId, partition, counters, errors, signal, outcome);
        } finally {
          withheld = outcome.withheld;
        }
      }
      status = errors.length > 0 ? 'completed-with-errors' : 'completed';
    } catch (error) {
      status = 'failed';
      message = [message, describe(error)].filter(Boolean).join('; ');
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      this.o.logger.error({ runId, connector: this.name, partition, step, error: message }, 'run failed; deletes withheld');
    }
    const changed = counters.stageAdd + counters.stageUpdate + counters.stageRename + counters.stageDelete + counters.stageFailure > 0;
    if (!recorded && (changed || status !== 'completed')) {
      recorded = true;
      await this.insertRun(runId, step, partition);
    }
    if (recorded) await this.finishRun(runId, step, status, { ...counters }, withheld, errors, message);
    span.setAttributes({ 'mw.run.step': step, 'mw.run.status': status, 'mw.run.deletes_withheld': withheld });
    if (recorded) this.o.logger.info({ runId, connector: this.name, partition, step, status, counters, deletesWithheld: withheld }, 'run finished');
    return { id: runId, connector: this.name, partition, step, status: recorded ? status : 'no-change', counters, deletesWithheld: withheld, message };
  }

  /** Full import: stage page by page; deletes and the watermark only after an error-free read. */
  private async fullImport(
    runId: string,
    partition: string,
    counters: RunCounters,
    errors: ObjectError[],
    signal: AbortSignal,
    outcome: { withheld: number },
  ): Promise<void> {
    const full = this.o.connector.capabilities.fullImport;
    if (!full) throw new Error(`connector ${this.name} has no full import`);
    const seen = new Set<string>();
    let readError: unknown = null;
    let watermark: string | null = null;
    try {
      const result = await full.fullImport(
        partition,
        {
          page: async (images) => {
            for (const i of images) seen.add(i.anchor);
            await this.stageImages(runId, partition, images, counters);
          },
          objectError: (e) => {
            counters.stageFailure++;
            errors.push(e);
          },
        },
        signal,
      );
      watermark = result.watermark;
    } catch (error) {
      readError = error;
    }
    const clean = readError === null && errors.length === 0;
    const { deletes, withheld } = fullImportDeletes(await this.partitionObjects(partition), seen, clean);
    await this.o.db.transaction(async (tx) => {
      await this.stage(tx, runId, partition, deletes, counters);
      if (clean && watermark !== null) await this.saveWatermark(tx, partition, this.o.connector.capabilities.deltaImport?.strategy ?? 'none', watermark);
      await this.recordObjectErrors(tx, errors);
    });
    outcome.withheld = withheld;
    if (readError) throw readError;
  }

  private async stageDelta(
    runId: string,
    partition: string,
    changes: readonly DeltaChange[],
    watermark: string,
    strategy: string,
    counters: RunCounters,
    errors: readonly ObjectError[],
  ): Promise<void> {
    const upserts = changes.filter((c): c is Extract<DeltaChange, { kind: 'upsert' }> => c.kind === 'upsert').map((c) => c.image);
    const deletes = changes.filter((c): c is Extract<DeltaChange, { kind: 'delete' }> => c.kind === 'delete');
    await this.o.db.transaction(async (tx) => {
      await this.stageImagesIn(tx, runId, partition, upserts, counters);
      const gone: CsChange[] = [];
      for (const d of deletes) {
        const rows: StoredRow[] = d.anchor
          ? await tx.query(`SELECT * FROM ${this.s}.cs_object WHERE connector = $1 AND anchor = $2 AND NOT deleted FOR UPDATE`, [this.name, d.anchor])
          : await tx.query(`SELECT * FROM ${this.s}.cs_object WHERE connector = $1 AND lower(dn) = lower($2) AND NOT deleted FOR UPDATE`, [this.name, d.dn]);
        const stored = rows[0] ? fromRow(rows[0]) : undefined;
        if (!stored) continue;
        gone.push({
          change: 'delete',
          image: { anchor: stored.anchor, partition: stored.partition, dn: stored.dn, objectType: stored.objectType, attributes: {} },
          previousDn: null,
          delta: [],
          version: stored.version + 1,
        });
      }
      await this.stage(tx, runId, partition, gone, counters);
      await this.saveWatermark(tx, partition, strategy, watermark);
      await this.recordObjectErrors(tx, errors);
    });
  }

  private async stageImages(runId: string, partition: string, images: readonly CsImage[], counters: RunCounters): Promise<void> {
    const size = this.o.pageSize ?? PAGE;
    for (let i = 0; i < images.length; i += size) {
      await this.o.db.transaction(async (tx) => {
        await this.stageImagesIn(tx, runId, partition, images.slice(i, i + size), counters);
        await this.progress(tx, runId, { ...counters });
      });
    }
  }

  private async stageImagesIn(tx: EntityManager, runId: string, partition: string, images: readonly CsImage[], counters: RunCounters): Promise<void> {
    if (images.length === 0) return;
    const rows: StoredRow[] = await tx.query(`SELECT * FROM ${this.s}.cs_object WHERE connector = $1 AND anchor = ANY($2) FOR UPDATE`, [
      this.name,
      images.map((i) => i.anchor),
    ]);
    const stored = new Map(rows.map((r) => [r.anchor, fromRow(r)]));
    const changes: CsChange[] = [];
    for (const image of images) {
      const change = diffObject(stored.get(image.anchor), image);
      if (change) changes.push(change);
      else counters.stageNoChange++;
    }
    await this.stage(tx, runId, partition, changes, counters);
    await tx.query(`DELETE FROM ${this.s}.object_error WHERE connector = $1 AND object = ANY($2)`, [this.name, images.map((i) => i.dn)]);
  }

  /**
   * Writes the CS rows and enqueues one CS change event per object, each in a trace of its own —
   * in batches: one multi-row upsert and one outbox insert per batch instead of two round trips
   * per object (a batch never holds the same anchor twice).
   */
  private async stage(tx: EntityManager, runId: string, partition: string, changes: readonly CsChange[], counters: RunCounters): Promise<void> {
    const runSpan = trace.getActiveSpan()?.spanContext();
    for (const batch of batches(changes)) {
      await tx.query(
        `INSERT INTO ${this.s}.cs_object (connector, anchor, partition, dn, object_type, attributes, version, deleted, updated_at)
         SELECT $1, u.anchor, $2, u.dn, u.object_type, u.attributes::jsonb, u.version, u.deleted, now()
         FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::bool[]) AS u(anchor, dn, object_type, attributes, version, deleted)
         ON CONFLICT (connector, anchor) DO UPDATE SET partition = EXCLUDED.partition, dn = EXCLUDED.dn, object_type = EXCLUDED.object_type,
           attributes = EXCLUDED.attributes, version = EXCLUDED.version, deleted = EXCLUDED.deleted, updated_at = now()`,
        [
          this.name,
          partition,
          batch.map((c) => c.image.anchor),
          batch.map((c) => c.image.dn),
          batch.map((c) => c.image.objectType),
          batch.map((c) => JSON.stringify(c.image.attributes)),
          batch.map((c) => c.version),
          batch.map((c) => c.change === 'delete'),
        ],
      );
      const spans: Span[] = [];
      const items = batch.map((change) => {
        const i = change.image;
        const message = this.envelopes.create({
          type: 'cs.object.changed',
          schemaVersion: 1,
          data: {
            connector: this.name,
            partition,
            anchor: i.anchor,
            objectType: i.objectType,
            dn: i.dn,
            previousDn: change.previousDn,
            change: change.change,
            attributes: i.attributes,
            delta: change.delta,
            csVersion: change.version,
          },
        });
        const span = tracer.startSpan(`cs.${change.change}`, {
          root: true,
          links: runSpan ? [{ context: runSpan }] : [],
          attributes: { 'mw.connector': this.name, 'mw.anchor': i.anchor, 'mw.run.id': runId },
        });
        spans.push(span);
        const headers: Record<string, string> = {};
        propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
        return { topic: this.o.topic, key: csObjectKey(this.name, i.anchor), message, headers };
      });
      try {
        // Outside the run's context: each event carries the trace of its own span (headers above).
        await context.with(ROOT_CONTEXT, () => enqueueOutbox((sql, params) => tx.query(sql, params), this.o.schema, items));
      } finally {
        for (const span of spans) span.end();
      }
      for (const change of batch) counters[COUNTER[change.change]]++;
    }
  }

  private async recordObjectErrors(tx: EntityManager, errors: readonly ObjectError[]): Promise<void> {
    for (const e of errors) {
      await tx.query(
        `INSERT INTO ${this.s}.object_error (connector, object, type, message) VALUES ($1, $2, $3, $4)
         ON CONFLICT (connector, object) DO UPDATE SET type = EXCLUDED.type, message = EXCLUDED.message, last_occurred = now(),
           retry_count = ${this.s}.object_error.retry_count + 1`,
        [this.name, e.object, e.type, e.message],
      );
    }
  }

  /** Run history of this connector, newest first (optionally one partition). */
  async listRuns(partition?: string, limit = 100): Promise<RunView[]> {
    const rows = partition
      ? await this.o.db.query(`SELECT * FROM ${this.s}.run WHERE connector = $1 AND partition = $2 ORDER BY started_at DESC LIMIT $3`, [this.name, partition, limit])
      : await this.o.db.query(`SELECT * FROM ${this.s}.run WHERE connector = $1 ORDER BY started_at DESC LIMIT $2`, [this.name, limit]);
    return rows.map(toRunView);
  }

  /** One run, or null. */
  async getRun(id: string): Promise<RunView | null> {
    const rows = await this.o.db.query(`SELECT * FROM ${this.s}.run WHERE connector = $1 AND id = $2`, [this.name, id]);
    return rows[0] ? toRunView(rows[0]) : null;
  }

  async watermark(partition: string): Promise<string | null> {
    const rows = await this.o.db.query(`SELECT value FROM ${this.s}.watermark WHERE connector = $1 AND partition = $2`, [this.name, partition]);
    return rows[0]?.value ?? null;
  }

  private async saveWatermark(tx: EntityManager, partition: string, strategy: string, value: string): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.s}.watermark (connector, partition, strategy, value) VALUES ($1, $2, $3, $4)
       ON CONFLICT (connector, partition) DO UPDATE SET strategy = EXCLUDED.strategy, value = EXCLUDED.value, updated_at = now()`,
      [this.name, partition, strategy, value],
    );
  }

  private async partitionObjects(partition: string): Promise<StoredCsObject[]> {
    const rows: StoredRow[] = await this.o.db.query(`SELECT * FROM ${this.s}.cs_object WHERE connector = $1 AND partition = $2 AND NOT deleted`, [
      this.name,
      partition,
    ]);
    return rows.map(fromRow);
  }
}

/** A run as the APIs show it. */
export interface RunView {
  readonly id: string;
  readonly connector: string;
  readonly partition: string;
  readonly step: string;
  readonly status: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** MIIS counters: `stageAdd`… for imports, `exportAdd`… for the Export step. */
  readonly counters: (RunCounters & Readonly<Record<string, number>>) | null;
  readonly deletesWithheld: number;
  readonly errors: readonly ObjectError[];
  readonly message: string | null;
}

function toRunView(r: Record<string, unknown>): RunView {
  return {
    id: r['id'] as string,
    connector: r['connector'] as string,
    partition: r['partition'] as string,
    step: r['step'] as string,
    status: r['status'] as string,
    startedAt: r['started_at'] as string,
    finishedAt: (r['finished_at'] as string | null) ?? null,
    counters: (r['counters'] as RunView['counters']) ?? null,
    deletesWithheld: r['deletes_withheld'] as number,
    errors: r['errors'] as ObjectError[],
    message: (r['message'] as string | null) ?? null,
  };
}

/** Consecutive runs of at most 1000 changes in which no anchor repeats (one upsert statement each). */
function batches(changes: readonly CsChange[]): CsChange[][] {
  const out: CsChange[][] = [];
  let current: CsChange[] = [];
  let anchors = new Set<string>();
  for (const c of changes) {
    if (current.length >= 1000 || anchors.has(c.image.anchor)) {
      out.push(current);
      current = [];
      anchors = new Set();
    }
    current.push(c);
    anchors.add(c.image.anchor);
  }
  if (current.length > 0) out.push(current);
  return out;
}

interface LiveRun {
  readonly runId: string;
  step: RunStepName;
  readonly partition: string;
  readonly startedAt: Date;
  sequence: number;
  lastProgress: number;
}

const COUNTER: Record<CsChange['change'], keyof RunCounters> = { add: 'stageAdd', update: 'stageUpdate', rename: 'stageRename', delete: 'stageDelete' };

interface StoredRow {
  anchor: string;
  partition: string;
  dn: string;
  object_type: string;
  attributes: StoredCsObject['attributes'];
  version: number;
  deleted: boolean;
}

function fromRow(r: StoredRow): StoredCsObject {
  return { anchor: r.anchor, partition: r.partition, dn: r.dn, objectType: r.object_type, attributes: r.attributes, version: r.version, deleted: r.deleted };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

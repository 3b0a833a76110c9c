import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
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
import { EnvelopeFactory, csObjectKey } from '@metaweave/contracts';
import { enqueueOutbox, quoteIdent, type Logger } from '@metaweave/messaging';
import type { DataSource, EntityManager } from 'typeorm';

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

  constructor(private readonly o: RunDriverOptions) {
    this.envelopes = new EnvelopeFactory({ source: o.source });
    this.s = quoteIdent(o.schema);
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

  private async insertRun(runId: string, step: RunStep, partition: string): Promise<void> {
    await this.o.db.query(`INSERT INTO ${this.s}.run (id, connector, partition, step, status) VALUES ($1, $2, $3, $4, 'running')`, [
      runId,
      this.name,
      partition,
      step,
    ]);
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
        withheld = await this.fullImport(runId, partition, counters, errors, signal);
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
    if (recorded) {
      await this.o.db.query(
        `UPDATE ${this.s}.run SET step = $2, status = $3, finished_at = now(), counters = $4, deletes_withheld = $5, errors = $6, message = $7 WHERE id = $1`,
        [runId, step, status, JSON.stringify(counters), withheld, JSON.stringify(errors.slice(0, 1000)), message],
      );
    }
    span.setAttributes({ 'mw.run.step': step, 'mw.run.status': status, 'mw.run.deletes_withheld': withheld });
    if (recorded) this.o.logger.info({ runId, connector: this.name, partition, step, status, counters, deletesWithheld: withheld }, 'run finished');
    return { id: runId, connector: this.name, partition, step, status: recorded ? status : 'no-change', counters, deletesWithheld: withheld, message };
  }

  /** Full import: stage page by page; deletes and the watermark only after an error-free read. */
  private async fullImport(runId: string, partition: string, counters: RunCounters, errors: ObjectError[], signal: AbortSignal): Promise<number> {
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
    if (readError) throw readError;
    return withheld;
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
      await this.o.db.transaction((tx) => this.stageImagesIn(tx, runId, partition, images.slice(i, i + size), counters));
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

  /** Writes the CS rows and enqueues one CS change event per object, each in a trace of its own. */
  private async stage(tx: EntityManager, runId: string, partition: string, changes: readonly CsChange[], counters: RunCounters): Promise<void> {
    const runSpan = trace.getActiveSpan()?.spanContext();
    for (const change of changes) {
      const i = change.image;
      await tx.query(
        `INSERT INTO ${this.s}.cs_object (connector, anchor, partition, dn, object_type, attributes, version, deleted, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
         ON CONFLICT (connector, anchor) DO UPDATE SET partition = EXCLUDED.partition, dn = EXCLUDED.dn, object_type = EXCLUDED.object_type,
           attributes = EXCLUDED.attributes, version = EXCLUDED.version, deleted = EXCLUDED.deleted, updated_at = now()`,
        [this.name, i.anchor, partition, i.dn, i.objectType, JSON.stringify(i.attributes), change.version, change.change === 'delete'],
      );
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
      await tracer.startActiveSpan(
        `cs.${change.change}`,
        { root: true, links: runSpan ? [{ context: runSpan }] : [], attributes: { 'mw.connector': this.name, 'mw.anchor': i.anchor, 'mw.run.id': runId } },
        async (span) => {
          try {
            await enqueueOutbox((sql, params) => tx.query(sql, params), this.o.schema, [{ topic: this.o.topic, key: csObjectKey(this.name, i.anchor), message }]);
          } finally {
            span.end();
          }
        },
      );
      counters[COUNTER[change.change]]++;
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
  readonly counters: RunCounters | null;
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
    counters: (r['counters'] as RunCounters | null) ?? null,
    deletesWithheld: r['deletes_withheld'] as number,
    errors: r['errors'] as ObjectError[],
    message: (r['message'] as string | null) ?? null,
  };
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

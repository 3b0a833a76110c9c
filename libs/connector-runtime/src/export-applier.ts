import { ConnectorError, notReimported, type Connector, type ExportOperation } from '@metaweave/connector-sdk';
import { EnvelopeFactory, csObjectKey, type ExportCommandV1, type ExportOutcomeV1, type Message } from '@metaweave/contracts';
import { ConsumerLoop, enqueueOutbox, quoteIdent, type Logger } from '@metaweave/messaging';
import type { Kafka } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import type { RunDriver, RunView } from './run-driver';

export interface ExportApplierOptions {
  readonly db: DataSource;
  readonly schema: string;
  readonly connector: Connector;
  readonly driver: RunDriver;
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly commandsTopic: string;
  readonly outcomesTopic: string;
  readonly source: string;
  readonly logger: Logger;
  /** How long an export waits for a run on its partition to finish (it queues; it never fails for waiting). */
  readonly lockWaitMs?: number;
}

/**
 * Applies the export commands addressed to one connector as they arrive, in order per object,
 * under the partition's lease. Each command's `exportId` is recorded: a redelivered command is
 * recognised and not applied twice. The object is read back after every export (the confirming
 * import) and staged into the connector space like an import, in the transaction that records
 * the outcome and enqueues the outcome event. A refused export stays `failed` with its error — a
 * pending export the Export run step retries.
 */
export class ExportApplier {
  private readonly envelopes: EnvelopeFactory;
  private readonly s: string;
  private loop?: ConsumerLoop;

  constructor(private readonly o: ExportApplierOptions) {
    this.envelopes = new EnvelopeFactory({ source: o.source });
    this.s = quoteIdent(o.schema);
  }

  async start(): Promise<void> {
    this.loop = new ConsumerLoop({
      kafka: this.o.kafka,
      groupId: this.o.groupId,
      topics: [this.o.commandsTopic],
      expectedTypes: ['export.command'],
      fromBeginning: true,
      logger: this.o.logger,
      handle: (message) => this.handle(message as Message<'export.command'>),
    });
    await this.loop.start();
  }

  isRunning(): boolean {
    return this.loop?.isRunning() ?? false;
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  private async handle(message: Message<'export.command'>): Promise<void> {
    const command = message.data;
    if (command.connector !== this.o.connector.name) return;
    const fresh = await this.o.db.query(
      `INSERT INTO ${this.s}.export_state (export_id, connector, partition, anchor, dn, op, command, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending') ON CONFLICT (export_id) DO NOTHING RETURNING export_id`,
      [command.exportId, command.connector, command.partition, command.anchor, command.dn, command.op, JSON.stringify(command)],
    );
    if (fresh.length === 0) {
      const [row] = await this.o.db.query(`SELECT status FROM ${this.s}.export_state WHERE export_id = $1`, [command.exportId]);
      if (row?.status !== 'pending') {
        this.o.logger.info({ exportId: command.exportId, status: row?.status }, 'export command seen before; not applied again');
        return;
      }
    }
    await this.apply(command, message);
  }

  /** The Export run step: retries the partition's pending (failed) exports, oldest first. */
  async retryPending(partition: string): Promise<{ retried: number; applied: number; failed: number }> {
    const rows: { command: ExportCommandV1 }[] = await this.o.db.query(
      `SELECT command FROM ${this.s}.export_state WHERE connector = $1 AND partition = $2 AND status IN ('failed', 'pending') ORDER BY first_occurred`,
      [this.o.connector.name, partition],
    );
    let applied = 0;
    for (const { command } of rows) if ((await this.apply(command, null)) !== 'failed') applied++;
    return { retried: rows.length, applied, failed: rows.length - applied };
  }

  /**
   * The Export run step as a recorded run: retries the partition's pending exports and reports
   * MIIS export counters (`exportAdd`, `exportUpdate`, `exportRename`, `exportDelete`,
   * `exportFailure`) and each refused export as a per-object error, in the run history and as
   * run events.
   */
  async exportStep(partition: string): Promise<RunView> {
    const { run } = await this.o.driver.recordRun('export', partition, async (progress) => {
      const rows: { command: ExportCommandV1 }[] = await this.o.db.query(
        `SELECT command FROM ${this.s}.export_state WHERE connector = $1 AND partition = $2 AND status IN ('failed', 'pending') ORDER BY first_occurred`,
        [this.o.connector.name, partition],
      );
      const c = progress.counters;
      for (const key of ['exportAdd', 'exportUpdate', 'exportRename', 'exportDelete', 'exportFailure']) c[key] = 0;
      for (const { command } of rows) {
        const outcome = await this.applyOutcome(command, null);
        if (outcome.status === 'failed') {
          c['exportFailure']!++;
          progress.errors.push({ object: command.anchor ?? command.dn, type: outcome.error?.type ?? 'other', message: outcome.error?.message ?? 'export failed' });
        } else {
          const key = EXPORT_COUNTER[command.op];
          c[key] = (c[key] ?? 0) + 1;
        }
      }
    });
    return run;
  }

  private async apply(command: ExportCommandV1, cause: Message | null): Promise<ExportOutcomeV1['status']> {
    return (await this.applyOutcome(command, cause)).status;
  }

  private async applyOutcome(command: ExportCommandV1, cause: Message | null): Promise<Omit<ExportOutcomeV1, 'attempt'>> {
    const capability = this.o.connector.capabilities.export;
    const operation = toOperation(command);
    const release = await this.o.driver.lockPartition(command.partition, this.o.lockWaitMs ?? 10 * 60_000, `export ${command.op}`);
    let outcome: Omit<ExportOutcomeV1, 'attempt'>;
    try {
      // Another delivery of this command (a redelivery after a rebalance while this one waited for
      // the lease, possibly on another replica) may have applied it meanwhile: apply at most once.
      const [current] = await this.o.db.query(`SELECT status FROM ${this.s}.export_state WHERE export_id = $1`, [command.exportId]);
      if (current?.status === 'applied' || current?.status === 'not-reimported') {
        this.o.logger.info({ exportId: command.exportId, status: current.status }, 'export applied by another delivery meanwhile; not applied again');
        return {
          exportId: command.exportId,
          connector: command.connector,
          partition: command.partition,
          op: command.op,
          anchor: command.anchor,
          dn: command.dn,
          status: current.status as ExportOutcomeV1['status'],
          error: null,
          notReimported: [],
        };
      }
      try {
        if (!capability) throw new ConnectorError('other', `connector ${this.o.connector.name} cannot export`);
        const readBack = await capability.apply(command.partition, operation);
        const missing = notReimported(operation, readBack);
        outcome = {
          exportId: command.exportId,
          connector: command.connector,
          partition: command.partition,
          op: command.op,
          anchor: readBack?.anchor ?? command.anchor,
          dn: readBack?.dn ?? (command.op === 'rename' ? command.newDn! : command.dn),
          status: missing.length > 0 ? 'not-reimported' : 'applied',
          error: missing.length > 0 ? { type: 'exported-change-not-reimported', message: `the directory did not keep ${missing.join(', ')}`, retriable: false } : null,
          notReimported: missing,
        };
        await this.o.driver.stageConfirmation(command.partition, readBack, command.op === 'delete' ? command.anchor : null, (tx) => this.record(tx, command, outcome, cause));
      } catch (error) {
        const e = error instanceof ConnectorError ? error : new ConnectorError('other', (error as Error).message);
        outcome = {
          exportId: command.exportId,
          connector: command.connector,
          partition: command.partition,
          op: command.op,
          anchor: command.anchor,
          dn: command.dn,
          status: 'failed',
          error: { type: e.type, message: e.message, retriable: e.retriable },
          notReimported: [],
        };
        await this.o.db.transaction((tx) => this.record(tx, command, outcome, cause));
        this.o.logger.warn({ exportId: command.exportId, op: command.op, dn: command.dn, error: e.type }, `export failed: ${e.message}`);
      }
    } finally {
      await release();
    }
    return outcome;
  }

  private async record(tx: EntityManager, command: ExportCommandV1, outcome: Omit<ExportOutcomeV1, 'attempt'>, cause: Message | null): Promise<void> {
    const [{ attempts }] = await tx.query(
      `UPDATE ${this.s}.export_state SET status = $2, error = $3, not_reimported = $4, anchor = COALESCE($5, anchor), attempts = attempts + 1, last_attempt = now()
       WHERE export_id = $1 RETURNING attempts`,
      [command.exportId, outcome.status, outcome.error ? JSON.stringify(outcome.error) : null, JSON.stringify(outcome.notReimported), outcome.anchor],
    ).then((r: unknown) => (Array.isArray(r) && Array.isArray(r[0]) ? r[0] : r) as { attempts: number }[]);
    const event = this.envelopes.create({
      type: 'export.outcome',
      schemaVersion: 1,
      data: { ...outcome, attempt: attempts },
      ...(cause ? { causedBy: cause } : {}),
    });
    await enqueueOutbox((sql, params) => tx.query(sql, params), this.o.schema, [
      { topic: this.o.outcomesTopic, key: csObjectKey(command.connector, command.anchor ?? command.dn), message: event },
    ]);
  }
}

const EXPORT_COUNTER: Record<ExportCommandV1['op'], string> = { add: 'exportAdd', update: 'exportUpdate', rename: 'exportRename', delete: 'exportDelete' };

function toOperation(c: ExportCommandV1): ExportOperation {
  switch (c.op) {
    case 'add':
      return { op: 'add', dn: c.dn, objectType: c.objectType, attributes: c.attributes };
    case 'update':
      return { op: 'update', anchor: c.anchor!, dn: c.dn, objectType: c.objectType, changes: c.changes };
    case 'rename':
      return { op: 'rename', anchor: c.anchor!, dn: c.dn, newDn: c.newDn! };
    case 'delete':
      return { op: 'delete', anchor: c.anchor!, dn: c.dn };
  }
}

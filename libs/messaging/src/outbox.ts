import { messagingMetrics } from './metrics';
import { createHash } from 'node:crypto';
import { encodeMessage, type Message } from '@metaweave/contracts';
import { context, propagation } from '@opentelemetry/api';
import type { Pool, PoolClient } from 'pg';
import { backoffDelay, settlesWithin, sleep, type BackoffOptions } from './backoff';
import { MessagingConfigError, MessagingStateError, OutboxLockedError, StopTimeoutError } from './errors';
import { errorFields, type Logger } from './logger';
import type { MessageProducer, RawRecord } from './producer';

export const DEFAULT_OUTBOX_TABLE = 'outbox';

/** `"name"` with embedded quotes doubled: a PostgreSQL identifier whatever it contains. */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new MessagingConfigError('empty SQL identifier');
  return `"${name.replace(/"/g, '""')}"`;
}

function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/**
 * DDL of an outbox table, for the owning service's migrations. Rows are deleted once published,
 * so the table stays small; `id` order is publication order.
 */
export function outboxTableSql(schema: string, table = DEFAULT_OUTBOX_TABLE): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(schema, table)} (
  id bigserial PRIMARY KEY,
  topic text NOT NULL,
  key text NOT NULL,
  value bytea NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
)`;
}

function digest(schema: string, table: string): Buffer {
  return createHash('sha256').update(`metaweave.outbox\0${schema}\0${table}`).digest();
}

/**
 * Key of the session-level advisory lock that elects the one active relay of an outbox table
 * (first 8 bytes of a SHA-256 of schema and table, as a signed bigint, in decimal).
 */
export function outboxLockKey(schema: string, table = DEFAULT_OUTBOX_TABLE): string {
  return digest(schema, table).readBigInt64BE(0).toString();
}

/** LISTEN/NOTIFY channel of an outbox table (a short, always valid identifier). */
export function outboxChannel(schema: string, table = DEFAULT_OUTBOX_TABLE): string {
  return `mw_outbox_${digest(schema, table).subarray(8, 16).toString('hex')}`;
}

/** A query function of the caller's transaction: pg `PoolClient.query`, TypeORM `QueryRunner.query` / `EntityManager.query`. */
export type QueryFn = (sql: string, params: unknown[]) => Promise<unknown>;

export interface OutboxItem {
  readonly topic: string;
  /** Partition key, as for MessageProducer.send. */
  readonly key: string;
  readonly message: Message;
  readonly headers?: Readonly<Record<string, string>>;
}

const ROWS_PER_INSERT = 1000;

/**
 * Stores messages in the outbox table INSIDE the caller's transaction (pass that transaction's
 * query function): they are published if and only if the transaction commits. Messages are
 * encoded (and so validated) here; the current W3C trace context is stored with them, so the
 * trace continues when the relay publishes. A NOTIFY (delivered at commit) wakes the relay.
 */
export async function enqueueOutbox(query: QueryFn, schema: string, items: readonly OutboxItem[], table = DEFAULT_OUTBOX_TABLE): Promise<void> {
  if (items.length === 0) return;
  const trace: Record<string, string> = {};
  propagation.inject(context.active(), trace);
  const rows = items.map((item) => [item.topic, item.key, encodeMessage(item.message), JSON.stringify({ ...(item.headers ?? {}), ...trace })] as const);
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + ROWS_PER_INSERT);
    const params: unknown[] = [];
    const tuples = chunk.map((row) => {
      const n = params.push(...row);
      return `($${n - 3}, $${n - 2}, $${n - 1}, $${n}::jsonb)`;
    });
    params.push(outboxChannel(schema, table));
    await query(
      `WITH inserted AS (INSERT INTO ${qualified(schema, table)} (topic, key, value, headers) VALUES ${tuples.join(', ')} RETURNING 1)
       SELECT pg_notify($${params.length}, '')`,
      params,
    );
  }
}

export interface OutboxRelayOptions {
  readonly pool: Pool;
  readonly schema: string;
  readonly table?: string;
  readonly producer: MessageProducer;
  /** Rows read, published and deleted per round. Default 500. */
  readonly batchSize?: number;
  /** When the outbox is empty, look again after this long (a NOTIFY wakes the relay earlier). Default 50 ms. */
  readonly idleDelayMs?: number;
  /** How often a standby tries to take the lock over. Default 1000 ms. */
  readonly takeoverIntervalMs?: number;
  /** Backoff after an error (database or Kafka). Default 200 ms doubling to 10 s. */
  readonly errorBackoff?: BackoffOptions;
  /** Bound of stop(), ms. Default 30000. */
  readonly stopTimeoutMs?: number;
  readonly logger: Logger;
}

interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  value: Buffer;
  headers: Record<string, unknown> | null;
}

/**
 * Publishes an outbox table to Kafka, in id order, deleting rows once Kafka acknowledged them
 * (at-least-once: a crash between ack and delete publishes those rows again).
 *
 * Exactly one relay per table is active: it holds a session-level advisory lock on a dedicated
 * connection and does all its reading and deleting on that same connection, so it cannot keep
 * publishing after losing the lock. Other relays (replicas of the same service) are standbys
 * that try to take the lock over every `takeoverIntervalMs`.
 */
export class OutboxRelay {
  private readonly table: string;
  private readonly qualifiedTable: string;
  private readonly lockKey: string;
  private readonly channel: string;
  private readonly batchSize: number;
  private readonly idleDelayMs: number;
  private readonly takeoverIntervalMs: number;
  private readonly errorBackoff: BackoffOptions;
  private readonly logger: Logger;
  private readonly stopController = new AbortController();
  private loop: Promise<void> | null = null;
  private session: PoolClient | null = null;
  private sessionError: unknown = undefined;
  private active = false;
  private wakeUp: (() => void) | null = null;
  private pendingWake = false;
  private mutex: Promise<unknown> = Promise.resolve();
  private stopPromise: Promise<void> | null = null;

  constructor(private readonly options: OutboxRelayOptions) {
    this.table = options.table ?? DEFAULT_OUTBOX_TABLE;
    this.qualifiedTable = qualified(options.schema, this.table);
    this.lockKey = outboxLockKey(options.schema, this.table);
    this.channel = outboxChannel(options.schema, this.table);
    this.batchSize = options.batchSize ?? 500;
    this.idleDelayMs = options.idleDelayMs ?? 50;
    this.takeoverIntervalMs = options.takeoverIntervalMs ?? 1000;
    this.errorBackoff = options.errorBackoff ?? { initialBackoffMs: 200, maxBackoffMs: 10000 };
    this.logger = options.logger;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new MessagingConfigError('OutboxRelay: batchSize must be a positive integer');
  }

  /**
   * Starts relaying in the background. Resolves once the first election is decided (this relay
   * is active or a standby) or failed (logged; the relay keeps trying).
   */
  start(): Promise<void> {
    if (this.loop) throw new MessagingStateError('OutboxRelay: start() called twice');
    let decided!: () => void;
    const firstDecision = new Promise<void>((resolve) => (decided = resolve));
    this.loop = this.run(decided);
    return firstDecision;
  }

  /** Stops relaying: the round in progress finishes, the lock is released (a standby takes over). */
  stop(): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    this.stopController.abort();
    this.wake();
    const timeoutMs = this.options.stopTimeoutMs ?? 30000;
    this.stopPromise = (async () => {
      if (!this.loop) return;
      const finished = await settlesWithin(this.loop, timeoutMs);
      if (!finished) throw new StopTimeoutError(`OutboxRelay(${this.qualifiedTable})`, timeoutMs);
    })();
    return this.stopPromise;
  }

  /** True while this relay holds the lock and publishes. */
  isActive(): boolean {
    return this.active;
  }

  /**
   * Publishes what is in the outbox now; resolves with the number of rows published. Uses the
   * active session when this relay is active; otherwise takes the lock just for this call and
   * throws OutboxLockedError if another relay holds it.
   */
  async drainOnce(): Promise<number> {
    if (this.session) {
      const session = this.session;
      return this.exclusive(() => this.drain(session));
    }
    const client = await this.options.pool.connect();
    let broken: unknown = undefined;
    try {
      if (!(await this.tryLock(client))) throw new OutboxLockedError(this.qualifiedTable);
      try {
        return await this.exclusive(() => this.drain(client));
      } finally {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [this.lockKey]);
      }
    } catch (err) {
      broken = err;
      throw err;
    } finally {
      // A client whose unlock may not have happened must not go back to the pool holding the lock.
      client.release(broken instanceof OutboxLockedError ? undefined : (broken as Error | undefined));
    }
  }

  // ------------------------------------------------------------------ internals

  private get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  private async run(decided: () => void): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let client: PoolClient | null = null;
      try {
        client = await this.options.pool.connect();
        this.sessionError = undefined;
        const onError = (err: Error) => {
          this.sessionError = err;
          this.wake();
        };
        client.on('error', onError);
        if (!(await this.tryLock(client))) {
          decided();
          client.off('error', onError);
          client.release();
          client = null;
          if (this.active) this.logger.warn({ table: this.qualifiedTable }, 'outbox relay lost the lock; standby');
          this.active = false;
          failures = 0;
          await sleep(this.takeoverIntervalMs, this.stopController.signal);
          continue;
        }
        client.on('notification', (n) => {
          if (n.channel === this.channel) this.wake();
        });
        await client.query(`LISTEN ${quoteIdent(this.channel)}`);
        this.session = client;
        this.active = true;
        decided();
        this.logger.info({ table: this.qualifiedTable }, 'outbox relay active (holds the lock)');
        while (!this.stopping) {
          const session = client;
          const published = await this.exclusive(() => this.drain(session));
          if (this.sessionError !== undefined) throw this.sessionError;
          // Only a drain that worked ends a failure streak: a relay that can lock but not read (a
          // dropped table) must keep backing off, not retry five times a second.
          failures = 0;
          if (published === 0) await this.waitForWork(this.idleDelayMs);
          if (this.sessionError !== undefined) throw this.sessionError;
        }
      } catch (err) {
        decided();
        failures++;
        const delayMs = backoffDelay(Math.min(failures, 30), this.errorBackoff);
        this.logger.error({ table: this.qualifiedTable, failures, delayMs, ...errorFields(err) }, 'outbox relay failed; backing off (unpublished rows stay in the outbox)');
        this.releaseSession(client);
        client = null;
        await sleep(delayMs, this.stopController.signal);
      } finally {
        this.releaseSession(client);
      }
    }
  }

  /** Ends the dedicated session: destroying the connection drops the lock and the LISTEN at once. */
  private releaseSession(client: PoolClient | null): void {
    if (!client) return;
    const wasActive = this.session === client;
    if (wasActive) {
      this.session = null;
      this.active = false;
      this.logger.info({ table: this.qualifiedTable }, 'outbox relay released the lock');
    }
    client.removeAllListeners('notification');
    client.release(true);
  }

  private async tryLock(client: PoolClient): Promise<boolean> {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [this.lockKey]);
    return rows[0]?.locked === true;
  }

  /** One publish round at a time per relay (the loop and drainOnce share the session). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.mutex.then(fn, fn);
    this.mutex = run.catch(() => undefined);
    return run;
  }

  private async drain(client: PoolClient): Promise<number> {
    let total = 0;
    for (;;) {
      const { rows } = await client.query<OutboxRow>(
        `SELECT id, topic, key, value, headers FROM ${this.qualifiedTable} ORDER BY id LIMIT $1`,
        [this.batchSize],
      );
      if (rows.length === 0) return total;
      const records: RawRecord[] = rows.map((r) => ({ topic: r.topic, key: r.key, value: r.value, headers: stringHeaders(r.headers) }));
      await this.options.producer.sendRawRecords(records, { traceParent: 'headers' });
      await client.query(`DELETE FROM ${this.qualifiedTable} WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
      total += rows.length;
      messagingMetrics().outboxPublished.add(rows.length, { table: this.qualifiedTable.replace(/"/g, '') });
      this.logger.debug({ table: this.qualifiedTable, published: rows.length, lastId: rows[rows.length - 1]!.id }, 'outbox rows published');
      if (rows.length < this.batchSize || this.stopping) return total;
    }
  }

  private waitForWork(ms: number): Promise<void> {
    if (this.pendingWake || this.stopping) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  private wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.pendingWake = true;
  }
}

function stringHeaders(headers: Record<string, unknown> | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v !== null && v !== undefined) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

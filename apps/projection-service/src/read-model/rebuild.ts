import { ConflictException, Inject, Injectable } from '@nestjs/common';
import { TOPICS } from '@metaweave/contracts';
import { ConsumerLoop } from '@metaweave/messaging';
import { KAFKA, LOGGER, openDatabase, type Logger } from '@metaweave/platform';
import type { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CONFIG, SERVICE_NAME, type ProjectionConfig } from '../config';
import { MIGRATIONS } from '../migrations';
import { ActiveSchema } from './active-schema';
import { applyBatch, Projector } from './projector';
import { checksum, ident, MV_TABLES, OPS_TABLES, storedOffsets, storeOffset } from './store';

const STALL_MS = 120_000;

export interface RebuildResult {
  readonly previousSchema: string;
  readonly activeSchema: string;
  /** The MV event stream position both were compared at, per partition. */
  readonly position: Record<string, string>;
  readonly previous: Awaited<ReturnType<typeof checksum>>;
  readonly rebuilt: Awaited<ReturnType<typeof checksum>>;
  /** True when the previous live read model equalled the one rebuilt from the log. */
  readonly equal: boolean;
  readonly durationMs: number;
}

/**
 * Replay (invariant 7): builds a new read model from the MV event stream (retention: infinite)
 * in a new schema, next to the live one, and switches over:
 *
 * 1. new schema, same committed migrations; replay the MV topic into it up to its current end
 *    (the live read model keeps serving and consuming meanwhile);
 * 2. stop the live consumers; bring both read models to the same, new end of the topic; copy the
 *    run/export/password tables (their topics keep 30–90 days only, so they are copied, not replayed);
 * 3. checksum both; switch the live schema to the new one, restart the consumers, drop the old
 *    one (the service's own schema keeps its tables, emptied).
 *
 * The rebuilt model is authoritative (it is the function of the log); `equal: false` means the
 * previous one had drifted and the rebuild repaired it.
 */
@Injectable()
export class Rebuilder {
  private running = false;

  constructor(
    @Inject(CONFIG) private readonly config: ProjectionConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly db: DataSource,
    private readonly active: ActiveSchema,
    private readonly projector: Projector,
  ) {}

  get inProgress(): boolean {
    return this.running;
  }

  async rebuild(): Promise<RebuildResult> {
    if (this.running) throw new ConflictException({ title: 'Conflict', detail: 'a rebuild is already running' });
    this.running = true;
    const t0 = Date.now();
    const previousSchema = this.active.current;
    const next = `${this.active.base}_rb_${Date.now().toString(36)}`.slice(0, 63);
    const mvTopic = this.projector.topic(TOPICS.mvEvents.name);
    let stopped = false;
    let switched = false;
    try {
      const ds = await openDatabase({ url: this.config.database.url, schema: next, applicationName: `${SERVICE_NAME}-rebuild`, migrations: MIGRATIONS, poolSize: 2 });
      await ds.destroy();
      this.logger.info({ schema: next }, 'rebuild: replaying the MV event stream into a new schema');
      await this.replay(next, mvTopic, await this.topicEnd(mvTopic));
      await this.projector.stop({ pause: true });
      stopped = true;
      const end = await this.topicEnd(mvTopic);
      await this.replay(previousSchema, mvTopic, end);
      await this.replay(next, mvTopic, end);
      const opsTopics = [TOPICS.runEvents.name, TOPICS.exportOutcomes.name, TOPICS.passwordOutcomes.name].map((n) => this.projector.topic(n));
      await this.db.transaction(async (tx) => {
        for (const table of OPS_TABLES) await tx.query(`INSERT INTO ${ident(next)}.${table} SELECT * FROM ${ident(previousSchema)}.${table}`);
        await tx.query(`INSERT INTO ${ident(next)}.consumer_offset SELECT * FROM ${ident(previousSchema)}.consumer_offset WHERE topic = ANY($1)`, [opsTopics]);
      });
      const previous = await checksum(this.db, previousSchema);
      const rebuilt = await checksum(this.db, next);
      await this.active.switchTo(this.db, next);
      switched = true;
      this.logger.info({ previousSchema, activeSchema: next, equal: previous.checksum === rebuilt.checksum }, 'rebuild: switched over');
      await this.projector.start();
      await this.dropSchema(previousSchema);
      return {
        previousSchema,
        activeSchema: next,
        position: Object.fromEntries([...end].map(([p, o]) => [String(p), o.toString()])),
        previous,
        rebuilt,
        equal: previous.checksum === rebuilt.checksum,
        durationMs: Date.now() - t0,
      };
    } finally {
      if (!switched) {
        // Failed before the switch: the live read model stays as it was; the half-built one goes.
        if (stopped) await this.projector.start();
        await this.dropSchema(next).catch((err: unknown) => this.logger.warn({ schema: next, err }, 'rebuild: could not drop the unfinished schema'));
      }
      this.running = false;
    }
  }

  /** The end (high watermark) of every partition of `topic` now. */
  private async topicEnd(topic: string): Promise<Map<number, bigint>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    } finally {
      await admin.disconnect();
    }
  }

  /** Applies the MV topic to `schema` from its stored position up to `end` (exclusive), then stops. */
  private async replay(schema: string, topic: string, end: Map<number, bigint>): Promise<void> {
    let position = '';
    const reached = async () => {
      const rows = await storedOffsets(this.db, schema, [topic]);
      position = JSON.stringify(rows.map((o) => [o.partition, o.offset]).sort());
      const stored = new Map(rows.map((o) => [o.partition, BigInt(o.offset)]));
      return [...end].every(([p, high]) => high === 0n || (stored.get(p) ?? 0n) >= high);
    };
    if (await reached()) return;
    const groupId = `${this.config.kafka.groupId}-replay-${randomUUID()}`;
    const loop = new ConsumerLoop({
      kafka: this.kafka,
      groupId,
      topics: [topic],
      expectedTypes: ['mv.object.changed'],
      fromBeginning: true,
      logger: this.logger,
      maxBatchSize: this.config.batchSize,
      handleBatch: (items, batch) => applyBatch(this.db, schema, this.config.kafka.topicPrefix, items, batch, end.get(batch.partition) ?? 0n),
      handle: (message, ctx) =>
        applyBatch(this.db, schema, this.config.kafka.topicPrefix, [{ message, ctx }], { topic: ctx.topic, partition: ctx.partition, lastOffset: ctx.offset }, end.get(ctx.partition) ?? 0n),
      // A message the live consumer dead-lettered is dead-lettered again here (header
      // mw-dlq-consumer-group names the replay group); the position moves past it all the same.
      onDeadLettered: (ctx) => {
        const next = BigInt(ctx.offset) + 1n;
        const cap = end.get(ctx.partition) ?? 0n;
        return storeOffset(this.db, schema, ctx.topic, ctx.partition, (next > cap ? cap : next).toString());
      },
      onPartitionsAssigned: async () => storedOffsets(this.db, schema, [topic]),
    });
    await loop.start();
    try {
      let lastMove = Date.now();
      let last = position;
      for (;;) {
        if (await reached()) break;
        if (!loop.isRunning()) throw new Error(`rebuild: the replay consumer into ${schema} stopped before the end of ${topic}`);
        if (position !== last) {
          last = position;
          lastMove = Date.now();
        } else if (Date.now() - lastMove > STALL_MS) {
          throw new Error(`rebuild: the replay into ${schema} made no progress for ${STALL_MS / 1000} s at ${position}, short of ${topic}'s end; see the service log`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await loop.stop();
      const admin = this.kafka.admin();
      await admin.connect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    }
  }

  private async dropSchema(schema: string): Promise<void> {
    if (schema === this.active.base) {
      await this.db.query(`TRUNCATE ${[...MV_TABLES, ...OPS_TABLES, 'consumer_offset'].map((t) => `${ident(schema)}.${t}`).join(', ')}`);
    } else {
      await this.db.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
    }
  }
}

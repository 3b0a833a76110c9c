import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { TOPICS, type MessageType } from '@metaweave/contracts';
import { ConsumerLoop, type BatchItem } from '@metaweave/messaging';
import { KAFKA, LOGGER, Readiness, type Logger } from '@metaweave/platform';
import type { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { CONFIG, type ProjectionConfig } from '../config';
import { ActiveSchema } from './active-schema';
import { applyExportOutcomes, applyMvBatch, applyPasswordOutcomes, applyRunEvents, storeOffset, storedOffsets, type Sql } from './store';

export type Applier = (tx: Sql, schema: string, items: readonly BatchItem[]) => Promise<void>;

/** Topic (without prefix) → what applies its messages. */
export const APPLIERS: Record<string, { type: MessageType; apply: Applier }> = {
  [TOPICS.mvEvents.name]: { type: 'mv.object.changed', apply: applyMvBatch },
  [TOPICS.runEvents.name]: { type: 'run.event', apply: applyRunEvents },
  [TOPICS.exportOutcomes.name]: { type: 'export.outcome', apply: applyExportOutcomes },
  [TOPICS.passwordOutcomes.name]: { type: 'password.outcome', apply: applyPasswordOutcomes },
};

/**
 * Applies one batch of one partition to the read model in `schema`: the rows and the consumed
 * offset in one PostgreSQL transaction (style.md §6). Messages at or beyond `until` (a replay's
 * end) are left alone and the stored offset stops there.
 */
export async function applyBatch(
  db: DataSource,
  schema: string,
  prefix: string,
  items: readonly BatchItem[],
  batch: { topic: string; partition: number; lastOffset: string },
  until?: bigint,
): Promise<void> {
  const applier = APPLIERS[batch.topic.slice(prefix.length)];
  if (!applier) throw new Error(`no applier for topic ${batch.topic}`);
  const inRange = until === undefined ? items : items.filter((i) => BigInt(i.ctx.offset) < until);
  let next = BigInt(batch.lastOffset) + 1n;
  if (until !== undefined && next > until) next = until;
  await db.transaction(async (tx) => {
    await applier.apply(tx, schema, inRange);
    await storeOffset(tx, schema, batch.topic, batch.partition, next.toString());
  });
}

/**
 * Keeps the live read model up to date: one consumer for the MV event stream (the log the MV
 * tables are a function of) and one for run events, export and password outcomes. Both apply
 * whole fetched batches (batch inserts, no per-row round trips) and, on every partition
 * assignment, seek to the offsets stored with the rows, so Kafka's committed offset is only an
 * optimisation. A replay's switch-over stops and restarts them.
 */
@Injectable()
export class Projector implements OnApplicationBootstrap, OnApplicationShutdown {
  private loops: ConsumerLoop[] = [];
  private paused = false;

  constructor(
    @Inject(CONFIG) private readonly config: ProjectionConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly db: DataSource,
    private readonly active: ActiveSchema,
    private readonly readiness: Readiness,
  ) {}

  topic(name: string): string {
    return this.config.kafka.topicPrefix + name;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.start();
    this.readiness.register('read-model-consumers', () => this.paused || (this.loops.length > 0 && this.loops.every((l) => l.isRunning())));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Starts both consumers on the live schema. */
  async start(): Promise<void> {
    const groups: [string, string[]][] = [
      [this.config.kafka.groupId, [TOPICS.mvEvents.name]],
      [`${this.config.kafka.groupId}-ops`, [TOPICS.runEvents.name, TOPICS.exportOutcomes.name, TOPICS.passwordOutcomes.name]],
    ];
    const loops = groups.map(
      ([groupId, names]) =>
        new ConsumerLoop({
          kafka: this.kafka,
          groupId,
          topics: names.map((n) => this.topic(n)),
          expectedTypes: names.map((n) => APPLIERS[n]!.type),
          fromBeginning: true,
          logger: this.logger,
          maxBatchSize: this.config.batchSize,
          // Partitions hold disjoint objects (key = MV object id, connector/partition, export id):
          // their batches may commit in parallel, so database round trips overlap with decoding.
          partitionsConsumedConcurrently: 3,
          handleBatch: (items, batch) => applyBatch(this.db, this.active.current, this.config.kafka.topicPrefix, items, batch),
          handle: (message, ctx) => applyBatch(this.db, this.active.current, this.config.kafka.topicPrefix, [{ message, ctx }], { topic: ctx.topic, partition: ctx.partition, lastOffset: ctx.offset }),
          onDeadLettered: (ctx) => storeOffset(this.db, this.active.current, ctx.topic, ctx.partition, (BigInt(ctx.offset) + 1n).toString()),
          onPartitionsAssigned: async (assignment) => {
            const stored = await storedOffsets(this.db, this.active.current, assignment.map((a) => a.topic));
            const assigned = new Set(assignment.flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`)));
            return stored.filter((r) => assigned.has(`${r.topic}:${r.partition}`));
          },
        }),
    );
    this.loops = loops;
    for (const loop of loops) await loop.start();
    this.paused = false;
  }

  /** Stops both consumers (the in-flight batch finishes and is stored). */
  async stop(options: { pause?: boolean } = {}): Promise<void> {
    this.paused = options.pause ?? false;
    const loops = this.loops;
    this.loops = [];
    for (const loop of loops) await loop.stop();
  }
}

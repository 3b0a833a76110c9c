import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { TOPICS, type Message } from '@metaweave/contracts';
import { ConsumerLoop, type ConsumeContext } from '@metaweave/messaging';
import { KAFKA, LOGGER, Readiness, type Logger } from '@metaweave/platform';
import type { Kafka } from 'kafkajs';
import { DataSource, type EntityManager } from 'typeorm';
import { CONFIG, type ProjectionConfig } from '../config';
import { applyMvEvent, type MvRow } from './apply';


/**
 * Applies MV events to the read model. Each event's rows and the consumed offset are written in
 * one PostgreSQL transaction (style.md §6); on partition assignment the consumer seeks to the
 * offsets stored here, so Kafka's committed offset is only an optimisation.
 */
@Injectable()
export class Projector implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly topic: string;
  private loop?: ConsumerLoop;

  constructor(
    @Inject(CONFIG) private readonly config: ProjectionConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly db: DataSource,
    private readonly readiness: Readiness,
  ) {
    this.topic = config.kafka.topicPrefix + TOPICS.mvEvents.name;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.loop = new ConsumerLoop({
      kafka: this.kafka,
      groupId: this.config.kafka.groupId,
      topics: [this.topic],
      expectedTypes: ['mv.object.changed'],
      fromBeginning: true,
      logger: this.logger,
      handle: (message, ctx) => this.apply(message as Message<'mv.object.changed'>, ctx),
      onPartitionsAssigned: (assignment) => this.storedOffsets(assignment),
    });
    await this.loop.start();
    this.readiness.register('mv-events-consumer', () => this.loop?.isRunning() ?? false);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop?.stop();
  }

  private async storedOffsets(assignment: { topic: string; partitions: number[] }[]) {
    const rows: { topic: string; kafka_partition: number; next_offset: string }[] = await this.db.query(
      `SELECT topic, kafka_partition, next_offset FROM consumer_offset WHERE topic = ANY($1)`,
      [assignment.map((a) => a.topic)],
    );
    const assigned = new Set(assignment.flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`)));
    return rows
      .filter((r) => assigned.has(`${r.topic}:${r.kafka_partition}`))
      .map((r) => ({ topic: r.topic, partition: r.kafka_partition, offset: String(r.next_offset) }));
  }

  private async apply(event: Message<'mv.object.changed'>, ctx: ConsumeContext): Promise<void> {
    await this.db.transaction(async (tx) => {
      const recorded = await tx.query(
        `INSERT INTO mv_object_event (event_id, mv_object_id, version, change, correlation_id, occurred_at, kafka_partition, kafka_offset)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
        [event.eventId, event.data.mvObjectId, event.data.version, event.data.change, event.correlationId, event.occurredAt, ctx.partition, ctx.offset],
      );
      if (recorded.length > 0) {
        const next = applyMvEvent(await this.load(tx, event.data.mvObjectId), event);
        if (next) await this.save(tx, next);
      }
      await tx.query(
        `INSERT INTO consumer_offset (topic, kafka_partition, next_offset) VALUES ($1, $2, $3)
         ON CONFLICT (topic, kafka_partition) DO UPDATE SET next_offset = GREATEST(consumer_offset.next_offset, EXCLUDED.next_offset)`,
        [ctx.topic, ctx.partition, (BigInt(ctx.offset) + 1n).toString()],
      );
    });
  }

  private async load(tx: EntityManager, id: string): Promise<MvRow | undefined> {
    const rows = await tx.query(`SELECT * FROM mv_object WHERE id = $1 FOR UPDATE`, [id]);
    const r = rows[0];
    if (!r) return undefined;
    return {
      id: r.id,
      objectType: r.object_type,
      version: r.version,
      deleted: r.deleted,
      attributes: r.attributes,
      connectors: r.connectors,
      rulesVersion: r.rules_version,
      lastEventId: r.last_event_id,
      updatedAt: r.updated_at,
    };
  }

  private async save(tx: EntityManager, row: MvRow): Promise<void> {
    await tx.query(
      `INSERT INTO mv_object (id, object_type, version, deleted, attributes, connectors, rules_version, last_event_id, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (id) DO UPDATE SET object_type = EXCLUDED.object_type, version = EXCLUDED.version, deleted = EXCLUDED.deleted,
         attributes = EXCLUDED.attributes, connectors = EXCLUDED.connectors, rules_version = EXCLUDED.rules_version,
         last_event_id = EXCLUDED.last_event_id, updated_at = EXCLUDED.updated_at`,
      [row.id, row.objectType, row.version, row.deleted, JSON.stringify(row.attributes), JSON.stringify(row.connectors), row.rulesVersion, row.lastEventId, row.updatedAt],
    );
  }
}

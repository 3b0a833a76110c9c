import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { TOPICS, type Message } from '@metaweave/contracts';
import { ConsumerLoop, type ConsumeContext } from '@metaweave/messaging';
import { KAFKA, LOGGER, Readiness, type Logger } from '@metaweave/platform';
import type { Kafka } from 'kafkajs';
import { DataSource, type EntityManager } from 'typeorm';
import { CONFIG, type PasswordServiceConfig } from '../config';
import { applyMvEventToRoute, type Nt4Account, type RouteRow } from './routes';

/**
 * The service's own view of which NT4 accounts each metaverse object has, kept from the MV event
 * stream. Each event's rows and the consumed offset are written in one transaction; on partition
 * assignment the consumer resumes from the offsets stored here (style.md §6). Idempotent by the
 * per-object version.
 */
@Injectable()
export class RoutingView implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly topic: string;
  private readonly configured: ReadonlySet<string>;
  private loop?: ConsumerLoop;

  constructor(
    @Inject(CONFIG) private readonly config: PasswordServiceConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly db: DataSource,
    private readonly readiness: Readiness,
  ) {
    this.topic = config.kafka.topicPrefix + TOPICS.mvEvents.name;
    this.configured = new Set(config.connectors.map((c) => c.connector));
  }

  async onApplicationBootstrap(): Promise<void> {
    this.loop = new ConsumerLoop({
      kafka: this.kafka,
      groupId: `${this.config.kafka.groupId}.routing`,
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

  /** The row of one MV object, or undefined if no event for it has been seen. */
  async get(mvObjectId: string, tx: Pick<EntityManager, 'query'> = this.db): Promise<RouteRow | undefined> {
    const rows: RouteJoinRow[] = await tx.query(
      `SELECT r.mv_object_id, r.object_type, r.version, r.deleted, a.connector, a.anchor, a.domain, a.account_name
       FROM route r LEFT JOIN route_account a USING (mv_object_id) WHERE r.mv_object_id = $1 ORDER BY a.connector, a.anchor`,
      [mvObjectId],
    );
    const r = rows[0];
    if (!r) return undefined;
    const accounts = rows.filter((a) => a.connector !== null).map((a) => toAccount(a as RouteJoinRow & { connector: string }));
    return { mvObjectId: r.mv_object_id, objectType: r.object_type, version: r.version, deleted: r.deleted, accounts };
  }

  /** Every MV object that holds the account `connector/anchor` (normally one). */
  async owners(connector: string, anchor: string): Promise<RouteRow[]> {
    const ids: { mv_object_id: string }[] = await this.db.query(`SELECT mv_object_id FROM route_account WHERE connector = $1 AND anchor = $2`, [connector, anchor]);
    const rows: RouteRow[] = [];
    for (const { mv_object_id } of ids) {
      const row = await this.get(mv_object_id);
      if (row) rows.push(row);
    }
    return rows;
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
      const locked = await tx.query(`SELECT version FROM route WHERE mv_object_id = $1 FOR UPDATE`, [event.data.mvObjectId]);
      const current = locked.length > 0 ? await this.get(event.data.mvObjectId, tx) : undefined;
      const next = applyMvEventToRoute(current, event, this.configured);
      if (next) await this.save(tx, next);
      await tx.query(
        `INSERT INTO consumer_offset (topic, kafka_partition, next_offset) VALUES ($1, $2, $3)
         ON CONFLICT (topic, kafka_partition) DO UPDATE SET next_offset = GREATEST(consumer_offset.next_offset, EXCLUDED.next_offset)`,
        [ctx.topic, ctx.partition, (BigInt(ctx.offset) + 1n).toString()],
      );
    });
  }

  private async save(tx: EntityManager, row: RouteRow): Promise<void> {
    await tx.query(
      `INSERT INTO route (mv_object_id, object_type, version, deleted, updated_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (mv_object_id) DO UPDATE SET object_type = EXCLUDED.object_type, version = EXCLUDED.version, deleted = EXCLUDED.deleted, updated_at = now()`,
      [row.mvObjectId, row.objectType, row.version, row.deleted],
    );
    await tx.query(`DELETE FROM route_account WHERE mv_object_id = $1`, [row.mvObjectId]);
    for (const a of row.accounts) {
      await tx.query(
        `INSERT INTO route_account (mv_object_id, connector, anchor, domain, account_name) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [row.mvObjectId, a.connector, a.anchor, a.domain, a.accountName],
      );
    }
  }
}

interface RouteJoinRow {
  mv_object_id: string;
  object_type: string;
  version: number;
  deleted: boolean;
  connector: string | null;
  anchor: string;
  domain: string;
  account_name: string;
}

function toAccount(r: { connector: string; anchor: string; domain: string; account_name: string }): Nt4Account {
  return { connector: r.connector, anchor: r.anchor, domain: r.domain, accountName: r.account_name };
}

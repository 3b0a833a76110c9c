import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EnvelopeFactory, TOPICS, type Message } from '@metaweave/contracts';
import { ConsumerLoop, enqueueOutbox } from '@metaweave/messaging';
import { KAFKA, LOGGER, Readiness, type Logger } from '@metaweave/platform';
import type { Kafka } from 'kafkajs';
import { DataSource, type EntityManager } from 'typeorm';
import { CONFIG, SERVICE_NAME, type JoinEngineConfig } from '../config';
import { decide, type CsLink, type MvState } from './skeleton-rules';

/**
 * Consumes CS change events and maintains the metaverse write model. Per event, one transaction
 * records the event id (inbox), updates MV object and link, and enqueues the MV event (outbox):
 * a redelivery finds its event id and changes nothing.
 */
@Injectable()
export class Synchronizer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly envelopes = new EnvelopeFactory({ source: SERVICE_NAME });
  private loop?: ConsumerLoop;

  constructor(
    @Inject(CONFIG) private readonly config: JoinEngineConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly db: DataSource,
    private readonly readiness: Readiness,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.loop = new ConsumerLoop({
      kafka: this.kafka,
      groupId: this.config.kafka.groupId,
      topics: [this.config.kafka.topicPrefix + TOPICS.csChanges.name],
      expectedTypes: ['cs.object.changed'],
      fromBeginning: true,
      logger: this.logger,
      handle: (message) => this.synchronize(message as Message<'cs.object.changed'>),
    });
    await this.loop.start();
    this.readiness.register('cs-changes-consumer', () => this.loop?.isRunning() ?? false);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop?.stop();
  }

  private async synchronize(message: Message<'cs.object.changed'>): Promise<void> {
    const change = message.data;
    await this.db.transaction(async (tx) => {
      const fresh = await tx.query(`INSERT INTO inbox (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING event_id`, [message.eventId]);
      if (fresh.length === 0) return;
      const link = await this.loadLink(tx, change.connector, change.anchor);
      const mv = link ? await this.loadMv(tx, link.mvObjectId) : undefined;
      const decision = decide(change, link, mv, randomUUID);
      if (!decision) return;
      await tx.query(
        `INSERT INTO mv_object (id, object_type, version, deleted, attributes, connectors) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET object_type = EXCLUDED.object_type, version = EXCLUDED.version, deleted = EXCLUDED.deleted,
           attributes = EXCLUDED.attributes, connectors = EXCLUDED.connectors`,
        [decision.mv.id, decision.mv.objectType, decision.mv.version, decision.mv.deleted, JSON.stringify(decision.mv.attributes), JSON.stringify(decision.mv.connectors)],
      );
      if (decision.link) {
        await tx.query(
          `INSERT INTO cs_link (connector, anchor, mv_object_id, cs_version) VALUES ($1, $2, $3, $4)
           ON CONFLICT (connector, anchor) DO UPDATE SET mv_object_id = EXCLUDED.mv_object_id, cs_version = EXCLUDED.cs_version`,
          [decision.link.connector, decision.link.anchor, decision.link.mvObjectId, decision.link.csVersion],
        );
      } else {
        await tx.query(`DELETE FROM cs_link WHERE connector = $1 AND anchor = $2`, [change.connector, change.anchor]);
      }
      const event = this.envelopes.create({ type: 'mv.object.changed', schemaVersion: 2, data: decision.event, causedBy: message });
      await enqueueOutbox((sql, params) => tx.query(sql, params), this.config.database.schema, [
        { topic: this.config.kafka.topicPrefix + TOPICS.mvEvents.name, key: decision.mv.id, message: event },
      ]);
      this.logger.debug({ mvObjectId: decision.mv.id, change: decision.event.change, cause: decision.event.cause }, 'metaverse changed');
    });
  }

  private async loadLink(tx: EntityManager, connector: string, anchor: string): Promise<CsLink | undefined> {
    const rows = await tx.query(`SELECT * FROM cs_link WHERE connector = $1 AND anchor = $2 FOR UPDATE`, [connector, anchor]);
    const r = rows[0];
    return r ? { connector: r.connector, anchor: r.anchor, mvObjectId: r.mv_object_id, csVersion: r.cs_version } : undefined;
  }

  private async loadMv(tx: EntityManager, id: string): Promise<MvState | undefined> {
    const rows = await tx.query(`SELECT * FROM mv_object WHERE id = $1 FOR UPDATE`, [id]);
    const r = rows[0];
    return r ? { id: r.id, objectType: r.object_type, version: r.version, deleted: r.deleted, attributes: r.attributes, connectors: r.connectors } : undefined;
  }
}

import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { MessageProducer, OutboxRelay } from '@metaweave/messaging';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { openPool } from './database';
import { Readiness } from './health';
import { KAFKA, LOGGER } from './infrastructure';
import type { Logger } from './logger';

export const OUTBOX_OPTIONS = Symbol('OutboxOptions');

export interface OutboxOptions {
  readonly service: string;
  readonly url: string;
  readonly schema: string;
}

/**
 * Publishes the service's transactional outbox to Kafka for as long as the service runs. Writers
 * call `enqueueOutbox` inside their own transaction; this relay does the rest.
 */
@Injectable()
export class OutboxPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private pool?: Pool;
  private producer?: MessageProducer;
  private relay?: OutboxRelay;

  constructor(
    @Inject(OUTBOX_OPTIONS) private readonly options: OutboxOptions,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly readiness: Readiness,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.pool = openPool({ url: this.options.url, schema: this.options.schema, applicationName: `${this.options.service}-outbox` });
    this.producer = new MessageProducer({ kafka: this.kafka, logger: this.logger });
    await this.producer.connect();
    // NOTIFY wakes the relay on every enqueue; the idle poll is only a safety net.
    this.relay = new OutboxRelay({ pool: this.pool, schema: this.options.schema, producer: this.producer, logger: this.logger, idleDelayMs: 1000 });
    await this.relay.start();
    this.readiness.register('outbox-relay', () => true);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
    await this.producer?.disconnect();
    await this.pool?.end();
  }
}

export function outboxProviders(options: OutboxOptions): Provider[] {
  return [{ provide: OUTBOX_OPTIONS, useValue: options }, OutboxPublisher];
}

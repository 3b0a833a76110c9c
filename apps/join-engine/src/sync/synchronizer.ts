import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { TOPICS, type Message } from '@metaweave/contracts';
import { ConsumerLoop } from '@metaweave/messaging';
import { KAFKA, LOGGER, openPool, Readiness, type Logger } from '@metaweave/platform';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { resolve } from 'node:path';
import { CONFIG, SERVICE_NAME, type JoinEngineConfig } from '../config';
import { JoinEngine } from '../engine/engine';
import { RulesHolder } from '../engine/rules-holder';

export const RULES = Symbol('RulesHolder');

/** Loads the rules at boot: a bad file stops the service with the loader's precise message. */
export async function loadRulesHolder(config: JoinEngineConfig): Promise<RulesHolder> {
  const extensions = config.rules.extensions ? ((await import(resolve(config.rules.extensions))) as { transforms?: Record<string, never> }).transforms ?? {} : {};
  return new RulesHolder(resolve(config.rules.file), extensions);
}

/**
 * Consumes CS change events into the JoinEngine (one transaction per event: inbox, join-key
 * locks, write model, outbox). SIGHUP reloads the rules; a bad file keeps the running rules.
 */
@Injectable()
export class Synchronizer implements OnApplicationBootstrap, OnApplicationShutdown {
  private loop?: ConsumerLoop;
  private pool?: Pool;
  engine?: JoinEngine;
  private readonly onHangup = () => this.reload();

  constructor(
    @Inject(CONFIG) private readonly config: JoinEngineConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(RULES) readonly rules: RulesHolder,
    private readonly readiness: Readiness,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.pool = openPool({ url: this.config.database.url, schema: this.config.database.schema, applicationName: SERVICE_NAME, poolSize: 5 });
    this.engine = new JoinEngine({ pool: this.pool, schema: this.config.database.schema, topicPrefix: this.config.kafka.topicPrefix, rules: this.rules });
    this.logger.info({ rulesFile: this.config.rules.file, rulesVersion: this.rules.current.version }, 'rules loaded');
    process.on('SIGHUP', this.onHangup);
    this.loop = new ConsumerLoop({
      kafka: this.kafka,
      groupId: this.config.kafka.groupId,
      topics: [this.config.kafka.topicPrefix + TOPICS.csChanges.name],
      expectedTypes: ['cs.object.changed'],
      fromBeginning: true,
      logger: this.logger,
      handle: (message) => this.engine!.handle(message as Message<'cs.object.changed'>),
    });
    await this.loop.start();
    this.readiness.register('cs-changes-consumer', () => this.loop?.isRunning() ?? false);
  }

  reload(): ReturnType<RulesHolder['reload']> {
    const result = this.rules.reload();
    if (result.ok) this.logger.info({ version: result.version, previous: result.previous }, 'rules reloaded');
    else this.logger.error({ error: result.error, version: result.version }, 'rules refused; the previous rules keep running');
    return result;
  }

  async onApplicationShutdown(): Promise<void> {
    process.off('SIGHUP', this.onHangup);
    await this.loop?.stop();
    await this.pool?.end();
  }
}

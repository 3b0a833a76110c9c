import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { TOPICS, type Message } from '@metaweave/contracts';
import { ConsumerLoop } from '@metaweave/messaging';
import { KAFKA, LOGGER, Readiness, type Logger } from '@metaweave/platform';
import type { Kafka } from 'kafkajs';
import { CONFIG, type PasswordServiceConfig } from '../config';
import { Operations } from './operations';

/**
 * Completes operations from `password.outcome` events. Idempotent (first outcome of a command
 * wins), so Kafka's committed offset is position enough; an outcome for a command this service
 * never sent goes to the dead-letter topic with the reason.
 */
@Injectable()
export class OutcomeConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private loop?: ConsumerLoop;

  constructor(
    @Inject(CONFIG) private readonly config: PasswordServiceConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly operations: Operations,
    private readonly readiness: Readiness,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.loop = new ConsumerLoop({
      kafka: this.kafka,
      groupId: `${this.config.kafka.groupId}.outcomes`,
      topics: [this.config.kafka.topicPrefix + TOPICS.passwordOutcomes.name],
      expectedTypes: ['password.outcome'],
      fromBeginning: true,
      logger: this.logger,
      handle: async (message) => {
        const outcome = (message as Message<'password.outcome'>).data;
        const applied = await this.operations.applyOutcome(outcome);
        this.logger.info(
          { operationId: outcome.operationId, commandId: outcome.commandId, connector: outcome.connector, anchor: outcome.anchor, result: outcome.result, applied },
          'password outcome',
        );
      },
    });
    await this.loop.start();
    this.readiness.register('password-outcomes-consumer', () => this.loop?.isRunning() ?? false);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop?.stop();
  }
}

import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { topicSpecs } from '@metaweave/contracts';
import { createKafka, ensureTopics } from '@metaweave/messaging';
import type { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { openDatabase, type DatabaseOptions } from './database';
import { Readiness } from './health';
import type { Logger } from './logger';

export const LOGGER = Symbol('Logger');
export const KAFKA = Symbol('Kafka');

export interface InfrastructureOptions {
  readonly service: string;
  readonly logger: Logger;
  readonly kafka: { readonly brokers: readonly string[]; readonly topicPrefix: string };
  readonly database?: Omit<DatabaseOptions, 'applicationName'>;
}

/** Closes the database when the application shuts down (after consumers drained). */
@Injectable()
class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.db.isInitialized) await this.db.destroy();
  }
}

/**
 * The providers every service needs: its logger, a Kafka client whose topics exist, and, for
 * services with state, its database with migrations applied and a readiness check.
 */
export function infrastructureProviders(options: InfrastructureOptions): Provider[] {
  const providers: Provider[] = [
    { provide: LOGGER, useValue: options.logger },
    {
      provide: KAFKA,
      useFactory: async () => {
        const kafka = createKafka({ brokers: [...options.kafka.brokers], clientId: options.service, logger: options.logger });
        await ensureTopics(kafka, topicSpecs(options.kafka.topicPrefix), options.logger);
        return kafka;
      },
    },
  ];
  if (options.database) {
    const database = options.database;
    providers.push(
      {
        provide: DataSource,
        inject: [Readiness],
        useFactory: async (readiness: Readiness) => {
          const db = await openDatabase({ ...database, applicationName: options.service });
          readiness.register('database', async () => {
            await db.query('SELECT 1');
            return true;
          });
          return db;
        },
      },
      DatabaseCloser,
    );
  }
  return providers;
}

export type { Kafka };

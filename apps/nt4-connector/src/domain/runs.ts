import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { RunDriver, RunSchedule, type RunStep } from '@metaweave/connector-runtime';
import { TOPICS } from '@metaweave/contracts';
import { LOGGER, type Logger } from '@metaweave/platform';
import { DataSource } from 'typeorm';
import { CONFIG, SERVICE_NAME, type Nt4Config } from '../config';
import { Nt4Domain } from './nt4-domain';

/**
 * Runs of the NT4 connector: a full import of the domain on demand and every
 * `MW_NT4_IMPORT_INTERVAL_MS`. Every operation on the domain holds the domain's lease (the run
 * driver's partition lock), so runs — and, with the password issue, exports and password sets —
 * never touch one domain at the same time.
 */
@Injectable()
export class Runs implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly domain: Nt4Domain;
  readonly driver: RunDriver;
  private readonly schedule: RunSchedule;

  constructor(@Inject(CONFIG) config: Nt4Config, @Inject(LOGGER) private readonly logger: Logger, db: DataSource) {
    this.domain = new Nt4Domain({ name: config.connector, connect: config.domain, logger });
    this.driver = new RunDriver({
      db,
      schema: config.database.schema,
      connector: this.domain,
      topic: config.kafka.topicPrefix + TOPICS.csChanges.name,
      source: SERVICE_NAME,
      logger,
    });
    this.schedule = new RunSchedule({ driver: this.driver, partitions: this.domain.partitions(), step: 'full-import', intervalMs: config.importIntervalMs, logger });
  }

  async onApplicationBootstrap(): Promise<void> {
    const abandoned = await this.driver.recoverAbandonedRuns();
    if (abandoned > 0) this.logger.warn({ abandoned }, 'runs left running by a stopped process marked abandoned');
    this.schedule.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.schedule.stop();
    await this.domain.dispose();
  }

  async start(step: RunStep, partition: string): Promise<string> {
    const { runId } = await this.driver.start(step, partition, { waitForLockMs: 30_000 });
    return runId;
  }
}

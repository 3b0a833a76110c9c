import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ExportApplier, RunDriver, RunSchedule, type RunRecord, type RunStep } from '@metaweave/connector-runtime';
import { TOPICS } from '@metaweave/contracts';
import { KAFKA, LOGGER, Readiness, type Logger } from '@metaweave/platform';
import type { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { CONFIG, SERVICE_NAME, type Nt4Config } from '../config';
import { DomainLease } from './lease';
import { Nt4Domain } from './nt4-domain';
import { PasswordApplier } from './passwords';

/**
 * Everything the NT4 connector does to its domain: full imports (on demand and every
 * `MW_NT4_IMPORT_INTERVAL_MS`), exports as their commands arrive (and the Export step retrying
 * pending ones), and password sets/changes. Every one of them holds the domain's lease
 * (DomainLease), across every replica: they queue, one at a time, and never overlap.
 */
@Injectable()
export class Runs implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly domain: Nt4Domain;
  readonly driver: RunDriver;
  readonly lease: DomainLease;
  private readonly exports: ExportApplier;
  private readonly passwords?: PasswordApplier;
  private readonly schedule: RunSchedule;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    @Inject(CONFIG) private readonly config: Nt4Config,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(KAFKA) kafka: Kafka,
    db: DataSource,
    private readonly readiness: Readiness,
  ) {
    this.domain = new Nt4Domain({ name: config.connector, connect: config.domain, logger });
    this.lease = new DomainLease({ db, schema: config.database.schema, connector: config.connector, logger });
    this.driver = new RunDriver({
      db,
      schema: config.database.schema,
      connector: this.domain,
      topic: config.kafka.topicPrefix + TOPICS.csChanges.name,
      source: SERVICE_NAME,
      logger,
      lease: this.lease,
    });
    this.exports = new ExportApplier({
      db,
      schema: config.database.schema,
      connector: this.domain,
      driver: this.driver,
      kafka,
      groupId: `${config.kafka.groupId}-${config.connector}-exports`,
      commandsTopic: config.kafka.topicPrefix + TOPICS.exportCommands.name,
      outcomesTopic: config.kafka.topicPrefix + TOPICS.exportOutcomes.name,
      source: SERVICE_NAME,
      logger,
      lockWaitMs: config.leaseWaitMs,
    });
    if (config.passwordKeys.length > 0) {
      this.passwords = new PasswordApplier({
        db,
        schema: config.database.schema,
        kafka,
        groupId: `${config.kafka.groupId}-${config.connector}-passwords`,
        commandsTopic: config.kafka.topicPrefix + TOPICS.passwordCommands.name,
        outcomesTopic: config.kafka.topicPrefix + TOPICS.passwordOutcomes.name,
        source: SERVICE_NAME,
        domain: this.domain,
        lease: this.lease,
        keys: config.passwordKeys,
        lockWaitMs: config.leaseWaitMs,
        logger,
      });
    }
    this.schedule = new RunSchedule({ driver: this.driver, partitions: this.domain.partitions(), step: 'full-import', intervalMs: config.importIntervalMs, logger });
  }

  async onApplicationBootstrap(): Promise<void> {
    const abandoned = await this.driver.recoverAbandonedRuns();
    if (abandoned > 0) this.logger.warn({ abandoned }, 'runs left running by a stopped process marked abandoned');
    await this.exports.start();
    this.readiness.register('export-commands-consumer', () => this.exports.isRunning());
    if (this.passwords) {
      await this.passwords.start();
      this.readiness.register('password-commands-consumer', () => this.passwords!.isRunning());
    } else {
      this.logger.warn({ connector: this.config.connector }, 'no password keys configured (MW_NT4_PASSWORD_KEYS): password commands are not taken');
    }
    this.schedule.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.schedule.stop();
    await this.passwords?.stop();
    await this.exports.stop();
    await Promise.allSettled([...this.inFlight]);
    await this.domain.dispose();
  }

  /** Starts a run on demand; it queues for the domain's lease behind the operations already waiting. */
  async start(step: RunStep, partition: string): Promise<string> {
    const { runId, done } = await this.driver.start(step, partition, { waitForLockMs: this.config.leaseWaitMs });
    this.track(done);
    return runId;
  }

  /** The Export run step: retry the domain's pending exports (each under the lease). */
  async exportStep(partition: string): Promise<{ retried: number; applied: number; failed: number }> {
    this.driver.checkPartition(partition);
    return this.exports.retryPending(partition);
  }

  /** Public halves of the password keys, for the password service's configuration. */
  passwordKeys(): { kid: string; publicKeyPem: string }[] {
    return this.config.passwordKeys.map((k) => ({ kid: k.kid, publicKeyPem: k.publicKeyPem }));
  }

  private track(done: Promise<RunRecord>): void {
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done)).catch(() => undefined);
  }
}

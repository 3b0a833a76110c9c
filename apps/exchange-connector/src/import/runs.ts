import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ExportApplier, RunDriver, RunSchedule, type RunRecord, type RunStep } from '@metaweave/connector-runtime';
import { TOPICS } from '@metaweave/contracts';
import { KAFKA, LOGGER, Readiness, type Logger } from '@metaweave/platform';
import type { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { CONFIG, SERVICE_NAME, type ExchangeConfig } from '../config';
import { ExchangeDirectory } from '../directory/exchange-directory';
import { ProfileScheduler, type ProfileStep, type StepOutcome } from './profiles';

/**
 * Runs of the Exchange connector: on demand (API, `mw run`) and continuously — a delta import of
 * every site every `MW_EXCHANGE_DELTA_INTERVAL_MS` (the first one of a site is a full import), so a
 * change in the directory reaches the metaverse without anyone starting a run. Runs of one site
 * never overlap; a scheduled delta finding a run in progress simply waits for the next tick.
 */
@Injectable()
export class Runs implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly directory: ExchangeDirectory;
  readonly driver: RunDriver;
  private readonly exports: ExportApplier;
  private readonly schedule: RunSchedule;
  readonly profiles: ProfileScheduler;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    @Inject(CONFIG) config: ExchangeConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(KAFKA) kafka: Kafka,
    db: DataSource,
    private readonly readiness: Readiness,
  ) {
    this.directory = new ExchangeDirectory({
      name: config.connector,
      ...config.ldap,
      sites: config.sites,
      containers: config.containers,
      deltaStrategy: config.deltaStrategy,
      tombstoneLifetimeMs: config.tombstoneLifetimeMs,
    });
    this.driver = new RunDriver({
      db,
      schema: config.database.schema,
      connector: this.directory,
      topic: config.kafka.topicPrefix + TOPICS.csChanges.name,
      source: SERVICE_NAME,
      logger,
    });
    this.exports = new ExportApplier({
      db,
      schema: config.database.schema,
      connector: this.directory,
      driver: this.driver,
      kafka,
      groupId: `${config.kafka.groupId}-${config.connector}-exports`,
      commandsTopic: config.kafka.topicPrefix + TOPICS.exportCommands.name,
      outcomesTopic: config.kafka.topicPrefix + TOPICS.exportOutcomes.name,
      source: SERVICE_NAME,
      logger,
    });
    this.profiles = new ProfileScheduler({ profiles: config.runProfiles, sites: config.sites, runStep: (step, p) => this.runStep(step, p), logger });
    this.schedule = new RunSchedule({ driver: this.driver, partitions: config.sites, step: 'delta-import', intervalMs: config.deltaIntervalMs, logger });
  }

  async onApplicationBootstrap(): Promise<void> {
    const abandoned = await this.driver.recoverAbandonedRuns();
    if (abandoned > 0) this.logger.warn({ abandoned }, 'runs left running by a stopped process marked abandoned');
    await this.exports.start();
    this.readiness.register('export-commands-consumer', () => this.exports.isRunning());
    this.schedule.start();
    this.profiles.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.schedule.stop();
    await this.profiles.stop();
    await this.exports.stop();
    await Promise.allSettled([...this.inFlight]);
  }

  /** The Export run step: retry the partition's pending exports, as a recorded run with run events. */
  async exportStep(partition: string) {
    this.driver.checkPartition(partition);
    const run = await this.exports.exportStep(partition);
    const c: Readonly<Record<string, number>> = run.counters ?? {};
    const failed = c['exportFailure'] ?? 0;
    const applied = ['exportAdd', 'exportUpdate', 'exportRename', 'exportDelete'].reduce((n, k) => n + (c[k] ?? 0), 0);
    return { runId: run.id, status: run.status, counters: run.counters, message: run.message, retried: applied + failed, applied, failed };
  }

  /** Starts a run on demand, waiting (bounded) for a run in progress on that site to end. */
  async start(step: RunStep, partition: string): Promise<string> {
    const { runId, done } = await this.driver.start(step, partition, { waitForLockMs: 30_000 });
    this.track(done);
    return runId;
  }

  /** One step of a run profile, waiting for a run in progress on the partition (up to 10 minutes). */
  private async runStep(step: ProfileStep, partition: string): Promise<StepOutcome> {
    if (step === 'export') {
      const r = await this.exportStep(partition);
      return { step, runId: r.runId, status: r.status };
    }
    const { runId, done } = await this.driver.start(step, partition, { waitForLockMs: 10 * 60_000 });
    this.track(done);
    const record = await done;
    return { step, runId, status: record.status };
  }

  private track(done: Promise<RunRecord>): void {
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done)).catch(() => undefined);
  }
}

import type { Logger } from '@metaweave/messaging';
import { RunInProgress, type RunDriver, type RunRecord, type RunStep } from './run-driver';

export interface RunScheduleOptions {
  readonly driver: RunDriver;
  readonly partitions: readonly string[];
  readonly step: RunStep;
  /** Time between the end of one round and the start of the next; 0 disables the schedule. */
  readonly intervalMs: number;
  readonly logger: Logger;
}

/**
 * Runs a step on every partition, round after round, so the system synchronizes without anyone
 * starting runs. A round finding a run in progress on a partition skips that partition. Runs
 * without changes leave no run row. `stop()` waits for the round in progress.
 */
export class RunSchedule {
  private timer?: NodeJS.Timeout;
  private stopping = false;
  private round: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: RunScheduleOptions) {}

  start(): void {
    if (this.o.intervalMs > 0) this.next(0);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.round;
  }

  private next(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.round = this.tick().finally(() => {
        if (!this.stopping) this.next(this.o.intervalMs);
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    await Promise.allSettled(
      this.o.partitions.map(async (partition) => {
        let done: Promise<RunRecord>;
        try {
          ({ done } = await this.o.driver.start(this.o.step, partition, { record: false }));
        } catch (error) {
          if (!(error instanceof RunInProgress)) this.o.logger.warn({ partition, error: (error as Error).message }, `scheduled ${this.o.step} not started`);
          return;
        }
        await done;
      }),
    );
  }
}

import type { RunStep } from '@metaweave/connector-runtime';
import type { Logger } from '@metaweave/messaging';
import { z } from 'zod';
import { parseCron, type Cron } from './cron';

/**
 * Run profiles as MIIS has them: named lists of steps, per connector and partition, from
 * configuration, each with an optional schedule (an interval or a cron expression), so the system
 * runs without anyone starting runs. Steps of one partition run in order (a failed step stops that
 * partition's profile run, as in MIIS); partitions run in parallel. Runs never overlap on a
 * partition: every step takes the partition's lease, waiting for a run in progress.
 */
export type ProfileStep = RunStep | 'export';

export interface RunProfile {
  readonly name: string;
  readonly steps: readonly ProfileStep[];
  /** Partitions it runs on (default: all). */
  readonly partitions: readonly string[] | null;
  readonly intervalMs: number | null;
  readonly cron: Cron | null;
}

const profileSchema = z
  .object({
    steps: z.array(z.enum(['full-import', 'delta-import', 'export'])).min(1, 'a profile needs at least one step'),
    partitions: z.array(z.string().min(1)).min(1).optional(),
    intervalMs: z.number().int().min(100).max(7 * 24 * 3_600_000).optional(),
    cron: z.string().optional(),
  })
  .strict()
  .refine((p) => !(p.intervalMs !== undefined && p.cron !== undefined), 'give intervalMs or cron, not both');

/** Parses `MW_EXCHANGE_RUN_PROFILES`; throws an Error naming the profile and what is wrong. */
export function parseRunProfiles(json: string, sites: readonly string[]): RunProfile[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new Error(`not JSON (${(error as Error).message}); expected {"<name>":{"steps":["delta-import"],"intervalMs":1000}}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('expected an object of named profiles');
  return Object.entries(raw).map(([name, value]) => {
    if (!/^[a-z][a-z0-9-]*$/i.test(name)) throw new Error(`profile name '${name}': letters, digits and - only`);
    const r = profileSchema.safeParse(value);
    if (!r.success) throw new Error(`profile '${name}': ${r.error.issues.map((i) => `${i.path.join('.') || 'profile'}: ${i.message}`).join('; ')}`);
    const unknown = (r.data.partitions ?? []).filter((p) => !sites.includes(p));
    if (unknown.length > 0) throw new Error(`profile '${name}': unknown site(s) ${unknown.join(', ')} (configured: ${sites.join(', ')})`);
    let cron: Cron | null = null;
    if (r.data.cron !== undefined) {
      try {
        cron = parseCron(r.data.cron);
      } catch (error) {
        throw new Error(`profile '${name}': ${(error as Error).message}`);
      }
    }
    return { name, steps: r.data.steps, partitions: r.data.partitions ?? null, intervalMs: r.data.intervalMs ?? null, cron };
  });
}

export interface StepOutcome {
  readonly step: ProfileStep;
  readonly runId: string | null;
  readonly status: string;
}

/** Runs profiles on their schedules; `run(name)` on demand. */
export class ProfileScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopping = false;

  constructor(
    private readonly o: {
      readonly profiles: readonly RunProfile[];
      readonly sites: readonly string[];
      readonly runStep: (step: ProfileStep, partition: string) => Promise<StepOutcome>;
      readonly logger: Logger;
      readonly clock?: () => Date;
    },
  ) {}

  list(): { name: string; steps: readonly ProfileStep[]; partitions: readonly string[]; schedule: string | null; nextRunAt: string | null }[] {
    const now = (this.o.clock ?? (() => new Date()))();
    return this.o.profiles.map((p) => ({
      name: p.name,
      steps: p.steps,
      partitions: p.partitions ?? this.o.sites,
      schedule: p.cron ? `cron ${p.cron.expression}` : p.intervalMs ? `every ${p.intervalMs} ms` : null,
      nextRunAt: p.cron ? p.cron.next(now).toISOString() : null,
    }));
  }

  has(name: string): boolean {
    return this.o.profiles.some((p) => p.name === name);
  }

  /** Runs a profile now on its partitions (or `partition`): steps in order per partition, partitions in parallel. */
  async run(name: string, partition?: string): Promise<Record<string, StepOutcome[]>> {
    const profile = this.o.profiles.find((p) => p.name === name);
    if (!profile) throw new Error(`no run profile '${name}' (configured: ${this.o.profiles.map((p) => p.name).join(', ') || 'none'})`);
    const partitions = partition ? [partition] : (profile.partitions ?? this.o.sites);
    const results: Record<string, StepOutcome[]> = {};
    await Promise.all(
      partitions.map(async (p) => {
        const outcomes: StepOutcome[] = (results[p] = []);
        for (const step of profile.steps) {
          const outcome = await this.o.runStep(step, p).catch((error: Error) => ({ step, runId: null, status: `failed: ${error.message}` }));
          outcomes.push(outcome);
          if (outcome.status.startsWith('failed')) {
            this.o.logger.warn({ profile: name, partition: p, step, status: outcome.status }, 'run profile stopped at a failed step');
            break;
          }
        }
      }),
    );
    return results;
  }

  start(): void {
    for (const p of this.o.profiles) if (p.intervalMs || p.cron) this.schedule(p, p.intervalMs ? 0 : this.delay(p));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers.values()) clearTimeout(t);
    await Promise.allSettled([...this.inFlight]);
  }

  private delay(p: RunProfile): number {
    const now = (this.o.clock ?? (() => new Date()))();
    return p.cron ? Math.max(0, p.cron.next(now).getTime() - now.getTime()) : p.intervalMs!;
  }

  private schedule(p: RunProfile, delayMs: number): void {
    this.timers.set(
      p.name,
      setTimeout(() => {
        const round = this.run(p.name)
          .catch((error: Error) => this.o.logger.warn({ profile: p.name, error: error.message }, 'scheduled run profile failed'))
          .finally(() => {
            this.inFlight.delete(round);
            if (!this.stopping) this.schedule(p, this.delay(p));
          });
        this.inFlight.add(round);
      }, delayMs),
    );
  }
}

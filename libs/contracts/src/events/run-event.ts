import { z } from 'zod';

/**
 * A run step of a connector (import, export, password) or of the join engine (full/delta
 * synchronization) started, progressed or ended. Kafka key: `${connector}/${partition}`; the
 * latest event of a run carries its whole state, so a consumer keeps the last one (by `sequence`).
 */
export const RUN_EVENT = 'run.event' as const;

export type RunStepName = 'full-import' | 'delta-import' | 'export' | 'full-sync' | 'delta-sync' | 'password';
export type RunStatus =
  | 'running'
  | 'completed'
  | 'no-change'
  | 'completed-with-errors'
  | 'failed'
  | 'stopped'
  /** Deletes beyond the threshold are held until an operator approves them. */
  | 'held';

export interface RunObjectError {
  readonly anchor: string | null;
  readonly dn: string | null;
  /** MIIS-style error type, e.g. `join-ambiguous`, `invalid-sid`, `insufficient-access-rights`. */
  readonly type: string;
  readonly message: string;
  readonly firstOccurred: string;
  readonly retryCount: number;
}

export interface RunEventV1 {
  readonly runId: string;
  readonly connector: string;
  readonly partition: string;
  readonly step: RunStepName;
  readonly status: RunStatus;
  /** Increases with every event of one run; consumers ignore older ones. */
  readonly sequence: number;
  readonly startedAt: string;
  readonly endedAt: string | null;
  /** MIIS counters in camelCase (`stageAdd`, `exportDelete`, `connectorFlow`, `heldDeletes`, …). */
  readonly counters: Readonly<Record<string, number>>;
  /** Per-object errors of this run (at most the first 100; `counters` has the total). */
  readonly errors: readonly RunObjectError[];
  readonly message: string | null;
}

export const runObjectErrorSchema = z
  .object({
    anchor: z.string().nullable(),
    dn: z.string().nullable(),
    type: z.string().min(1),
    message: z.string(),
    firstOccurred: z.string().datetime({ offset: true }),
    retryCount: z.number().int().nonnegative(),
  })
  .strict();

export const runEventV1Schema = z
  .object({
    runId: z.string().uuid(),
    connector: z.string().min(1),
    partition: z.string().min(1),
    step: z.enum(['full-import', 'delta-import', 'export', 'full-sync', 'delta-sync', 'password']),
    status: z.enum(['running', 'completed', 'no-change', 'completed-with-errors', 'failed', 'stopped', 'held']),
    sequence: z.number().int().nonnegative(),
    startedAt: z.string().datetime({ offset: true }),
    endedAt: z.string().datetime({ offset: true }).nullable(),
    counters: z.record(z.string().min(1), z.number().int().nonnegative()),
    errors: z.array(runObjectErrorSchema).max(100),
    message: z.string().nullable(),
  })
  .strict();

export function runKey(connector: string, partition: string): string {
  return `${connector}/${partition}`;
}

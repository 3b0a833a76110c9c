import type { PasswordResult } from '@metaweave/contracts';

/** A target as stored: its outcome once the connector reported one. */
export interface StoredTarget {
  readonly commandId: string;
  readonly connector: string;
  readonly domain: string;
  readonly anchor: string;
  readonly accountName: string;
  readonly expiresAt: string;
  readonly result: PasswordResult | null;
  readonly message: string | null;
  readonly completedAt: string | null;
}

export type TargetStatus = PasswordResult | 'pending';
export type OperationStatus = 'pending' | 'succeeded' | 'failed' | 'partially-succeeded';

export interface TargetView {
  readonly connector: string;
  readonly domain: string;
  readonly anchor: string;
  readonly accountName: string;
  readonly commandId: string;
  readonly expiresAt: string;
  /** MIIS result vocabulary (`success`, `bad-password`, `new-password-violate-policy`, …) or `pending`. */
  readonly result: TargetStatus;
  readonly message: string | null;
  readonly completedAt: string | null;
}

/**
 * What to report for one target at `now`: its outcome if the connector reported one; `expired`
 * if its command expired more than `graceMs` ago without an outcome (the connector refuses an
 * expired command, so nothing can happen to the account any more); otherwise `pending`.
 */
export function targetView(t: StoredTarget, now: Date, graceMs: number): TargetView {
  const base = { connector: t.connector, domain: t.domain, anchor: t.anchor, accountName: t.accountName, commandId: t.commandId, expiresAt: t.expiresAt };
  if (t.result) return { ...base, result: t.result, message: t.message, completedAt: t.completedAt };
  const deadline = Date.parse(t.expiresAt) + graceMs;
  if (now.getTime() > deadline) {
    return {
      ...base,
      result: 'expired',
      message: `no outcome from ${t.connector} before the command expired at ${t.expiresAt}: the connector did not report on it in time (down or busy) and refuses it once expired — check the account and send a new request`,
      completedAt: new Date(deadline).toISOString(),
    };
  }
  return { ...base, result: 'pending', message: null, completedAt: null };
}

export function operationStatus(targets: readonly TargetView[]): OperationStatus {
  if (targets.some((t) => t.result === 'pending')) return 'pending';
  const ok = targets.filter((t) => t.result === 'success').length;
  if (ok === targets.length) return 'succeeded';
  return ok === 0 ? 'failed' : 'partially-succeeded';
}

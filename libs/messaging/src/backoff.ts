export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  readonly initialBackoffMs: number;
  /** No delay exceeds this, jitter included. */
  readonly maxBackoffMs: number;
}

/** Fraction of the nominal delay that jitter may add or remove (±20%, like kafkajs' retrier). */
export const JITTER = 0.2;

/**
 * Delay before retry number `attempt` (1-based): `initial * 2^(attempt-1)`, randomized by ±20%
 * so that consumers failing together do not retry in lockstep, capped at `maxBackoffMs`.
 * `random` is injectable for tests and must return a number in [0, 1).
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be a positive integer, got ${attempt}`);
  const nominal = Math.min(options.maxBackoffMs, options.initialBackoffMs * 2 ** (attempt - 1));
  const jittered = nominal * (1 - JITTER + 2 * JITTER * random());
  return Math.max(0, Math.min(options.maxBackoffMs, Math.round(jittered)));
}

/**
 * Resolves after `ms`, or early (with `false`) when `signal` aborts. Never rejects.
 * Returns `true` when the full delay elapsed.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Waits for `promise` at most `ms`: true when it settled in time (its rejection is rethrown),
 * false on timeout. The timer is cleared either way, so nothing keeps the process alive.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = new AbortController();
  try {
    return await Promise.race([promise.then(() => true), sleep(ms, timeout.signal).then(() => false)]);
  } finally {
    timeout.abort();
  }
}

import { ApiError } from './api';

/** Prints rows as an aligned text table (the default output of the query commands). */
export function table(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.min(60, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))));
  const line = (values: string[]) => values.map((v, i) => (v.length > widths[i]! ? v.slice(0, widths[i]! - 1) + '…' : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line([...columns].map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/**
 * Exit codes of the query commands: 0 done, 1 failed, 2 bad input (400), 3 not found (404),
 * 4 refused (401/403), 5 a service unreachable or failing (502/503/5xx, connection refused).
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof ApiError) {
    if (error.status === 400) return 2;
    if (error.status === 404) return 3;
    if (error.status === 401 || error.status === 403) return 4;
    if (error.status >= 500) return 5;
    return 1;
  }
  if (error instanceof Error && /^cannot reach /.test(error.message)) return 5;
  return 1;
}

/** Runs a command body and exits with a code that says what went wrong. */
export function withExitCodes<A extends unknown[]>(body: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (error) {
      console.error(`mw: ${(error as Error).message}`);
      process.exit(exitCodeOf(error));
    }
  };
}

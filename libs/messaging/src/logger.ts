/**
 * The logger the library writes to: pino's `(obj, msg)` signature, so a pino logger (or a
 * child of one) can be passed as is. The library never logs message values.
 */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Error fields worth logging, without the whole object graph (which may hold connection state). */
export function errorFields(err: unknown): { err: { name: string; message: string; code?: unknown; retriable?: unknown; stack?: string } } {
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; retriable?: unknown };
    return {
      err: {
        name: e.name,
        message: e.message,
        ...(e.code !== undefined ? { code: e.code } : {}),
        ...(e.retriable !== undefined ? { retriable: e.retriable } : {}),
        ...(e.stack !== undefined ? { stack: e.stack } : {}),
      },
    };
  }
  return { err: { name: typeof err, message: String(err) } };
}

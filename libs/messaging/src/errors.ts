/**
 * Error classes of the messaging library, in the style of kafkajs: every error says whether
 * retrying the same operation can succeed (`retriable`) and keeps what caused it (`cause`).
 */
export interface MessagingErrorOptions {
  readonly retriable?: boolean;
  readonly cause?: unknown;
}

export class MessagingError extends Error {
  readonly retriable: boolean;

  constructor(message: string, options: MessagingErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** An existing topic does not match its declared spec (partition count). Needs an operator. */
export class TopicMismatchError extends MessagingError {
  constructor(
    message: string,
    readonly mismatches: readonly { readonly topic: string; readonly expected: number; readonly actual: number }[],
  ) {
    super(message, { retriable: false });
  }
}

/** A method was used in a state that does not allow it (send before connect, start twice...). */
export class MessagingStateError extends MessagingError {
  constructor(message: string) {
    super(message, { retriable: false });
  }
}

/** Options that cannot work; thrown by constructors, names the option. */
export class MessagingConfigError extends MessagingError {
  constructor(message: string) {
    super(message, { retriable: false });
  }
}

/** A graceful stop did not finish in time; whatever was in flight is not committed. */
export class StopTimeoutError extends MessagingError {
  constructor(what: string, timeoutMs: number) {
    super(`${what} did not stop within ${timeoutMs} ms`, { retriable: false });
  }
}

/** Writing a message to its dead-letter topic failed; the message is not committed. */
export class DeadLetterError extends MessagingError {
  constructor(message: string, cause: unknown) {
    super(message, { retriable: true, cause });
  }
}

/** Another relay process holds this outbox table; this one is a standby. */
export class OutboxLockedError extends MessagingError {
  constructor(table: string) {
    super(`another outbox relay holds the lock of ${table}; this relay is a standby`, { retriable: true });
  }
}

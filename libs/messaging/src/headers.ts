import type { IHeaders } from 'kafkajs';

/** Headers added to a dead-lettered message; everything else of the message is kept byte for byte. */
export const DLQ_HEADERS = {
  reason: 'mw-dlq-reason',
  error: 'mw-dlq-error',
  retriable: 'mw-dlq-retriable',
  originalTopic: 'mw-dlq-original-topic',
  originalPartition: 'mw-dlq-original-partition',
  originalOffset: 'mw-dlq-original-offset',
  consumerGroup: 'mw-dlq-consumer-group',
  at: 'mw-dlq-at',
} as const;

export const MAX_REASON_LENGTH = 1000;

/** Cuts `text` to at most `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max = MAX_REASON_LENGTH): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * Kafka headers as text: Buffers are decoded as UTF-8; when a key repeats, the last value wins
 * (the convention of Java's `Headers.lastHeader`, also used for `traceparent`).
 */
export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [key, value] of Object.entries(headers)) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last === undefined) continue;
    out[key] = Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
  }
  return out;
}

export interface DeadLetterInfo {
  readonly reason: string;
  readonly errorName: string;
  readonly retriable: boolean;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly consumerGroup: string;
  readonly at: Date;
}

/**
 * The headers of a dead-lettered message: the original headers untouched (trace context
 * included) plus the `mw-dlq-*` headers describing why and where from. A message dead-lettered a
 * second time (replayed from a DLQ and failing again) gets the new `mw-dlq-*` values.
 */
export function deadLetterHeaders(original: IHeaders | undefined, info: DeadLetterInfo): IHeaders {
  return {
    ...(original ?? {}),
    [DLQ_HEADERS.reason]: truncate(info.reason),
    [DLQ_HEADERS.error]: info.errorName,
    [DLQ_HEADERS.retriable]: String(info.retriable),
    [DLQ_HEADERS.originalTopic]: info.topic,
    [DLQ_HEADERS.originalPartition]: String(info.partition),
    [DLQ_HEADERS.originalOffset]: info.offset,
    [DLQ_HEADERS.consumerGroup]: info.consumerGroup,
    [DLQ_HEADERS.at]: info.at.toISOString(),
  };
}

/**
 * The class name of whatever was thrown: the constructor's name (pg's DatabaseError sets `name`
 * to 'error', a subclass that forgets to set `name` says 'Error'), else `name`, else the type.
 */
export function errorName(err: unknown): string {
  if (err instanceof Error) {
    const ctor = (err.constructor as { name?: unknown } | undefined)?.name;
    return typeof ctor === 'string' && ctor.length > 0 ? ctor : err.name;
  }
  if (err === null) return 'null';
  return typeof err;
}

/** The message of whatever was thrown. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * V8's JSON.parse errors quote a piece of the input (`Unexpected token 'h', "this is {not json"
 * is not valid JSON`), and decodeMessage puts that message in its ContractViolation. A reason is
 * logged and written to headers, a message value must never be: the quoted input is replaced.
 */
export function redactInputEcho(reason: string): string {
  return reason.replace(/, (?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON/, ', (input not shown) is not valid JSON');
}

import { Kafka, logLevel as KafkaLogLevel, type LogEntry, type RetryOptions, type logCreator } from 'kafkajs';
import { silentLogger, type Logger } from './logger';

export type LogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

export interface KafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Where kafkajs' own log lines go. Default: nowhere. */
  readonly logger?: Logger;
  /** The most verbose kafkajs level routed to `logger`. Default `warn` (quiet: no info chatter). */
  readonly logLevel?: LogLevel;
  /** Socket connect timeout, ms (kafkajs default 1000 is short for a loaded CI box). Default 3000. */
  readonly connectionTimeout?: number;
  /** Per-request timeout, ms. Default 30000 (kafkajs default). */
  readonly requestTimeout?: number;
  /** kafkajs' own retrier for its requests. */
  readonly retry?: RetryOptions;
}

const LEVELS: Record<LogLevel, KafkaLogLevel> = {
  nothing: KafkaLogLevel.NOTHING,
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
};

/**
 * The kafkajs `logCreator` that routes its entries to `logger` as `(obj, msg)`:
 * `obj` holds `component: 'kafkajs'`, the kafkajs namespace and its extra fields
 * (broker, groupId, error...); `msg` is the kafkajs message.
 */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      // timestamp duplicates the logger's own; `logger` is kafkajs' name for its logger.
      const { message, timestamp: _timestamp, logger: _logger, ...extra } = log;
      const obj = { component: 'kafkajs', namespace, ...extra };
      switch (level) {
        case KafkaLogLevel.ERROR:
          logger.error(obj, message);
          break;
        case KafkaLogLevel.WARN:
          logger.warn(obj, message);
          break;
        case KafkaLogLevel.INFO:
          logger.info(obj, message);
          break;
        default:
          logger.debug(obj, message);
      }
    };
}

/** One kafkajs client per process; producers, consumers and admin clients are made from it. */
export function createKafka(settings: KafkaSettings): Kafka {
  if (settings.brokers.length === 0) throw new RangeError('createKafka: brokers must not be empty');
  return new Kafka({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    logLevel: LEVELS[settings.logLevel ?? 'warn'],
    logCreator: kafkaLogCreator(settings.logger ?? silentLogger),
    connectionTimeout: settings.connectionTimeout ?? 3000,
    requestTimeout: settings.requestTimeout ?? 30000,
    ...(settings.retry ? { retry: settings.retry } : {}),
  });
}

/** `KAFKA_BROKERS`-style list ("h1:9092,h2:9092") to an array, ignoring blanks. */
export function parseBrokers(list: string): string[] {
  return list
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

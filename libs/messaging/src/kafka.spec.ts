import { logLevel } from 'kafkajs';
import { kafkaLogCreator, parseBrokers } from './kafka';
import type { Logger } from './logger';

class CollectingLogger implements Logger {
  readonly lines: { level: string; obj: object; msg: string }[] = [];
  debug(obj: object, msg: string) {
    this.lines.push({ level: 'debug', obj, msg });
  }
  info(obj: object, msg: string) {
    this.lines.push({ level: 'info', obj, msg });
  }
  warn(obj: object, msg: string) {
    this.lines.push({ level: 'warn', obj, msg });
  }
  error(obj: object, msg: string) {
    this.lines.push({ level: 'error', obj, msg });
  }
}

describe('kafkaLogCreator', () => {
  it('routes kafkajs entries to (obj, msg) at the matching level, without kafkajs timestamp/logger fields', () => {
    const logger = new CollectingLogger();
    const log = kafkaLogCreator(logger)(logLevel.INFO);
    const entry = (level: logLevel, message: string, extra: object = {}) =>
      log({ namespace: 'Consumer', level, label: 'X', log: { timestamp: '2026-01-01T00:00:00Z', logger: 'kafkajs', message, ...extra } });
    entry(logLevel.ERROR, 'Crash', { groupId: 'g', error: 'boom' });
    entry(logLevel.WARN, 'rebalancing');
    entry(logLevel.INFO, 'joined');
    entry(logLevel.DEBUG, 'fetch');
    expect(logger.lines).toEqual([
      { level: 'error', obj: { component: 'kafkajs', namespace: 'Consumer', groupId: 'g', error: 'boom' }, msg: 'Crash' },
      { level: 'warn', obj: { component: 'kafkajs', namespace: 'Consumer' }, msg: 'rebalancing' },
      { level: 'info', obj: { component: 'kafkajs', namespace: 'Consumer' }, msg: 'joined' },
      { level: 'debug', obj: { component: 'kafkajs', namespace: 'Consumer' }, msg: 'fetch' },
    ]);
  });
});

describe('parseBrokers', () => {
  it('splits a comma list and drops blanks', () => {
    expect(parseBrokers(' 127.0.0.1:19092, ,h2:9092 ')).toEqual(['127.0.0.1:19092', 'h2:9092']);
    expect(parseBrokers('')).toEqual([]);
  });
});

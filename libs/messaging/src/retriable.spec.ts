import { ContractViolation } from '@metaweave/contracts';
import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { DatabaseError } from 'pg';
import { DeadLetterError, MessagingError, TopicMismatchError } from './errors';
import { isRetriable, isTransientSqlState } from './retriable';

function sysError(code: string): NodeJS.ErrnoException {
  const e = new Error(`connect ${code} 127.0.0.1:5433`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

function pgError(code: string): DatabaseError {
  const e = new DatabaseError(`pg says ${code}`, 0, 'error');
  e.code = code;
  return e;
}

describe('isRetriable', () => {
  it('uses the retriable bit an error carries', () => {
    expect(isRetriable(new MessagingError('x', { retriable: true }))).toBe(true);
    expect(isRetriable(new MessagingError('x'))).toBe(false);
    expect(isRetriable(new DeadLetterError('dlq down', new Error('x')))).toBe(true);
    expect(isRetriable(new TopicMismatchError('x', []))).toBe(false);
    expect(isRetriable(new ContractViolation('bad'))).toBe(false);
    expect(isRetriable(Object.assign(new Error('custom'), { retriable: true }))).toBe(true);
  });

  it('the retriable bit wins over a transient-looking code', () => {
    expect(isRetriable(Object.assign(sysError('ECONNRESET'), { retriable: false }))).toBe(false);
  });

  it('classifies kafkajs errors by their own bit', () => {
    expect(isRetriable(new KafkaJSConnectionError('Connection error'))).toBe(true);
    expect(isRetriable(new KafkaJSNonRetriableError('nope'))).toBe(false);
    // REQUEST_TIMED_OUT (7) is retriable, INVALID_TOPIC_EXCEPTION (17) is not, per kafkajs' protocol table.
    // kafkajs builds protocol errors from its error-code table entries ({ type, code, retriable, message }).
    const protocolError = (entry: { type: string; code: number; retriable: boolean; message: string }) =>
      new KafkaJSProtocolError(entry as unknown as Error);
    expect(isRetriable(protocolError({ type: 'REQUEST_TIMED_OUT', code: 7, retriable: true, message: 't' }))).toBe(true);
    expect(isRetriable(protocolError({ type: 'INVALID_TOPIC_EXCEPTION', code: 17, retriable: false, message: 'i' }))).toBe(false);
    expect(isRetriable(new KafkaJSNumberOfRetriesExceeded(new Error('x'), { retryCount: 5, retryTime: 100 }))).toBe(false);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN'])('node %s is retriable', (code) => {
    expect(isRetriable(sysError(code))).toBe(true);
  });

  it.each(['ENOENT', 'EACCES', 'ERR_INVALID_ARG_TYPE'])('node %s is not', (code) => {
    expect(isRetriable(sysError(code))).toBe(false);
  });

  it.each([
    ['08006', 'connection_failure'],
    ['08001', 'sqlclient_unable_to_establish_sqlconnection'],
    ['40001', 'serialization_failure'],
    ['40P01', 'deadlock_detected'],
    ['53300', 'too_many_connections'],
    ['53100', 'disk_full'],
    ['57P01', 'admin_shutdown'],
    ['57P02', 'crash_shutdown'],
    ['57P03', 'cannot_connect_now'],
  ])('pg SQLSTATE %s (%s) is retriable', (code) => {
    expect(isRetriable(pgError(code))).toBe(true);
  });

  it.each([
    ['23505', 'unique_violation'],
    ['23503', 'foreign_key_violation'],
    ['42P01', 'undefined_table'],
    ['42703', 'undefined_column'],
    ['22P02', 'invalid_text_representation'],
    ['40002', 'transaction_integrity_constraint_violation'],
    ['57014', 'query_canceled'],
    ['28P01', 'invalid_password'],
  ])('pg SQLSTATE %s (%s) is not', (code) => {
    expect(isRetriable(pgError(code))).toBe(false);
  });

  it("knows node-postgres' code-less connection errors", () => {
    expect(isRetriable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isRetriable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isRetriable(new Error('Connection terminated due to connection timeout'))).toBe(true);
  });

  it('programmer errors and other surprises are not retriable', () => {
    expect(isRetriable(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(false);
    expect(isRetriable(new RangeError('Invalid array length'))).toBe(false);
    expect(isRetriable(new Error('something odd'))).toBe(false);
    expect(isRetriable('a string')).toBe(false);
    expect(isRetriable(undefined)).toBe(false);
    expect(isRetriable(null)).toBe(false);
    expect(isRetriable({ code: 42 })).toBe(false);
  });

  it('looks through wrappers: cause and TypeORM driverError', () => {
    expect(isRetriable(new Error('tx failed', { cause: pgError('40001') }))).toBe(true);
    expect(isRetriable(Object.assign(new Error('QueryFailedError'), { driverError: pgError('40P01') }))).toBe(true);
    expect(isRetriable(new Error('outer', { cause: new Error('middle', { cause: sysError('ECONNREFUSED') }) }))).toBe(true);
    expect(isRetriable(new Error('outer', { cause: new TypeError('bug') }))).toBe(false);
  });

  it('stops on cyclic causes', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(isRetriable(a)).toBe(false);
  });
});

describe('isTransientSqlState', () => {
  it('matches whole classes 08 and 53 and the listed codes only', () => {
    expect(['08000', '08003', '08P01', '53000', '53200', '40001', '40P01', '57P01', '57P02', '57P03'].every(isTransientSqlState)).toBe(true);
    expect(['57P04', '57000', '40000', '23505', '42601'].some(isTransientSqlState)).toBe(false);
  });
});

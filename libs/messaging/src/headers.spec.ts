import { deadLetterHeaders, DLQ_HEADERS, errorMessage, errorName, headersToStrings, MAX_REASON_LENGTH, redactInputEcho, truncate } from './headers';
import { ContractViolation } from '@metaweave/contracts';
import { DatabaseError } from 'pg';

describe('headersToStrings', () => {
  it('decodes buffers, keeps strings, takes the last of repeated keys, drops undefined', () => {
    expect(
      headersToStrings({
        traceparent: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'),
        plain: 'text',
        repeated: [Buffer.from('first'), 'second'],
        missing: undefined,
      }),
    ).toEqual({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', plain: 'text', repeated: 'second' });
    expect(headersToStrings(undefined)).toEqual({});
  });
});

describe('deadLetterHeaders', () => {
  const info = {
    reason: 'message is not JSON: Unexpected token',
    errorName: 'ContractViolation',
    retriable: false,
    topic: 'mw.cs.changes',
    partition: 3,
    offset: '42',
    consumerGroup: 'join-engine',
    at: new Date('2026-11-23T12:00:00.000Z'),
  };

  it('keeps the original headers byte for byte and adds the mw-dlq-* headers', () => {
    const original = { traceparent: Buffer.from('00-abc-def-01'), custom: 'x' };
    const headers = deadLetterHeaders(original, info);
    expect(headers.traceparent).toBe(original.traceparent);
    expect(headers.custom).toBe('x');
    expect(headers).toMatchObject({
      [DLQ_HEADERS.reason]: 'message is not JSON: Unexpected token',
      [DLQ_HEADERS.error]: 'ContractViolation',
      [DLQ_HEADERS.retriable]: 'false',
      [DLQ_HEADERS.originalTopic]: 'mw.cs.changes',
      [DLQ_HEADERS.originalPartition]: '3',
      [DLQ_HEADERS.originalOffset]: '42',
      [DLQ_HEADERS.consumerGroup]: 'join-engine',
      [DLQ_HEADERS.at]: '2026-11-23T12:00:00.000Z',
    });
    expect(Object.keys(DLQ_HEADERS)).toHaveLength(8);
  });

  it('truncates long reasons', () => {
    const headers = deadLetterHeaders(undefined, { ...info, reason: 'x'.repeat(5000) });
    const reason = headers[DLQ_HEADERS.reason] as string;
    expect(reason).toHaveLength(MAX_REASON_LENGTH);
    expect(reason.endsWith('…')).toBe(true);
  });

  it('overwrites the mw-dlq-* headers of a message dead-lettered before', () => {
    const first = deadLetterHeaders(undefined, info);
    const second = deadLetterHeaders(first, { ...info, reason: 'again', retriable: true });
    expect(second[DLQ_HEADERS.reason]).toBe('again');
    expect(second[DLQ_HEADERS.retriable]).toBe('true');
  });
});

describe('truncate', () => {
  it('leaves short text alone', () => {
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('exactly10!', 10)).toBe('exactly10!');
    expect(truncate('eleven char', 10)).toBe('eleven ch…');
  });
});

describe('errorName / errorMessage', () => {
  it('names the class of what was thrown', () => {
    class HandlerBug extends Error {}
    expect(errorName(new TypeError('x'))).toBe('TypeError');
    expect(errorName(new ContractViolation('x'))).toBe('ContractViolation');
    expect(errorName(new HandlerBug('x'))).toBe('HandlerBug');
    expect(errorName(new DatabaseError('x', 0, 'error'))).toBe('DatabaseError');
    expect(errorName('boom')).toBe('string');
    expect(errorName(null)).toBe('null');
    expect(errorMessage(new Error('m'))).toBe('m');
    expect(errorMessage(42)).toBe('42');
  });
});

describe('redactInputEcho', () => {
  const parseError = (text: string) => {
    try {
      JSON.parse(text);
    } catch (e) {
      return `message is not JSON: ${(e as Error).message}`;
    }
    throw new Error('parsed');
  };

  it.each([
    'this is {not json',
    '{"password": hunter2}',
    `{"long": "${'y'.repeat(100)}", "password": hunter2, "more": "${'z'.repeat(100)}"}`,
    '{"a": "s3cr3t", oops}',
    `{"token":"${'x'.repeat(200)}" , bad}`,
    '"unterminated',
    "'single'",
  ])('removes the input V8 quotes in JSON.parse errors: %s', (input) => {
    const reason = redactInputEcho(parseError(input));
    expect(reason).toMatch(/^message is not JSON: /);
    for (const secret of ['not json', 'hunter2', 'yyyy', 'zzzz', 's3cr3t', 'xxxxxxxx', 'unterminated', 'single']) expect(reason).not.toContain(secret);
  });

  it('leaves other reasons alone', () => {
    expect(redactInputEcho("unknown message type 'nope'")).toBe("unknown message type 'nope'");
    expect(redactInputEcho('message is not JSON: Unexpected end of JSON input')).toBe('message is not JSON: Unexpected end of JSON input');
  });
});

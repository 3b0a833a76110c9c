import { deadLetterTopic, type Message } from '@metaweave/contracts';
import { Partitioners, type Kafka } from 'kafkajs';
import { ConsumerLoop, type ConsumeContext, type ConsumerLoopOptions } from './consumer-loop';
import { MessagingError } from './errors';
import { DLQ_HEADERS } from './headers';
import {
  CollectingLogger,
  committedOffsets,
  createTopic,
  csChange,
  deferred,
  deleteTopics,
  INT_TIMEOUT_MS,
  readRaw,
  recordCount,
  testKafka,
  unique,
  waitFor,
} from './int-support';
import { MessageProducer } from './producer';

jest.setTimeout(INT_TIMEOUT_MS);

interface Handled {
  readonly message: Message;
  readonly ctx: ConsumeContext;
}

describe('ConsumerLoop against a real Kafka', () => {
  const logger = new CollectingLogger();
  let kafka: Kafka;
  let producer: MessageProducer;
  const topics: string[] = [];
  const loops: ConsumerLoop[] = [];

  beforeAll(async () => {
    kafka = testKafka(logger);
    producer = new MessageProducer({ kafka, logger });
    await producer.connect();
  });

  afterEach(async () => {
    await Promise.all(loops.splice(0).map((l) => l.stop().catch(() => undefined)));
  });

  afterAll(async () => {
    await producer.disconnect();
    await deleteTopics(kafka, topics.flatMap((t) => [t, deadLetterTopic(t)]));
  });

  async function topic(partitions = 1): Promise<string> {
    const t = await createTopic(kafka, logger, partitions);
    topics.push(t);
    return t;
  }

  async function startLoop(options: Partial<ConsumerLoopOptions> & Pick<ConsumerLoopOptions, 'topics' | 'handle'>): Promise<ConsumerLoop> {
    const loop = new ConsumerLoop({ kafka, groupId: unique('mw-int-group'), logger, fromBeginning: true, ...options });
    loops.push(loop);
    await loop.start();
    return loop;
  }

  it('consumes what was produced, in order per key, across keys and partitions, and commits all of it', async () => {
    const t = await topic(3);
    const keys = ['exchange/a', 'exchange/b', 'exchange/c', 'exchange/d', 'exchange/e'];
    const perKey = 20;
    // interleaved: a1 b1 c1 ... a2 b2 ..., in several sends
    for (let v = 1; v <= perKey; v += 5) {
      const items = [];
      for (let i = v; i < v + 5; i++) for (const key of keys) items.push({ key, message: csChange(key, i) });
      await producer.send(t, items);
    }
    const handled: Handled[] = [];
    const groupId = unique('mw-int-group');
    await startLoop({ groupId, topics: [t], expectedTypes: ['cs.object.changed'], handle: async (message, ctx) => void handled.push({ message, ctx }) });
    await waitFor(`${keys.length * perKey} messages handled`, () => handled.length >= keys.length * perKey);

    for (const key of keys) {
      const versions = handled.filter((h) => h.ctx.key === key).map((h) => (h.message as Message<'cs.object.changed'>).data.csVersion);
      expect(versions).toEqual(Array.from({ length: perKey }, (_, i) => i + 1));
      // one key, one partition
      expect(new Set(handled.filter((h) => h.ctx.key === key).map((h) => h.ctx.partition)).size).toBe(1);
    }
    expect(handled.every((h) => h.ctx.attempt === 1 && h.ctx.topic === t)).toBe(true);
    expect(new Set(handled.map((h) => h.message.eventId)).size).toBe(handled.length);

    // committed = next offset to read = number of records in each partition
    const perPartition = new Map<number, number>();
    for (const h of handled) perPartition.set(h.ctx.partition, (perPartition.get(h.ctx.partition) ?? 0) + 1);
    await waitFor('offsets committed', async () => {
      const committed = await committedOffsets(kafka, groupId, t);
      return [...perPartition].every(([p, n]) => committed[p] === String(n));
    });
    expect(await recordCount(kafka, deadLetterTopic(t))).toBe(0);
  });

  it('dead-letters malformed messages with their original bytes, key and headers and goes on', async () => {
    const t = await topic();
    const good = csChange('exchange/good', 1);
    const wrongSchema = { ...csChange('exchange/bad', 1), data: { connector: 'exchange', csVersion: 0 } };
    const wrongType = { ...csChange('exchange/x', 1), type: 'mv.object.changed' };
    await producer.sendRaw(t, [
      { key: 'k-notjson', value: 'this is {not json', headers: { 'x-origin': 'test', secret: Buffer.from([0, 1, 2, 255]) } },
      { key: 'k-schema', value: JSON.stringify(wrongSchema) },
      { key: null, value: JSON.stringify(wrongType) },
    ]);
    await producer.send(t, [{ key: 'exchange/good', message: good }]);

    const handled: Handled[] = [];
    const groupId = unique('mw-int-group');
    await startLoop({ groupId, topics: [t], expectedTypes: ['cs.object.changed'], handle: async (message, ctx) => void handled.push({ message, ctx }) });
    await waitFor('the good message after the bad ones handled', () => handled.length === 1);
    expect(handled[0]!.message.eventId).toBe(good.eventId);
    expect(handled[0]!.ctx.offset).toBe('3');

    const dead = (await readRaw(kafka, deadLetterTopic(t), 3)).sort((a, b) => Number(a.offset) - Number(b.offset));
    expect(dead).toHaveLength(3);
    const h = (i: number, name: string) => dead[i]!.headers[name]?.toString();

    expect(dead[0]!.value!.toString()).toBe('this is {not json');
    expect(dead[0]!.key!.toString()).toBe('k-notjson');
    expect(h(0, 'x-origin')).toBe('test');
    expect(Buffer.compare(dead[0]!.headers['secret'] as Buffer, Buffer.from([0, 1, 2, 255]))).toBe(0);
    expect(h(0, DLQ_HEADERS.reason)).toMatch(/^message is not JSON/);
    expect(h(0, DLQ_HEADERS.error)).toBe('ContractViolation');
    expect(h(0, DLQ_HEADERS.retriable)).toBe('false');
    expect(h(0, DLQ_HEADERS.originalTopic)).toBe(t);
    expect(h(0, DLQ_HEADERS.originalPartition)).toBe('0');
    expect(h(0, DLQ_HEADERS.originalOffset)).toBe('0');
    expect(h(0, DLQ_HEADERS.consumerGroup)).toBe(groupId);
    expect(new Date(h(0, DLQ_HEADERS.at)!).getTime()).toBeGreaterThan(Date.now() - 600_000);

    expect(dead[1]!.value!.toString()).toBe(JSON.stringify(wrongSchema));
    expect(h(1, DLQ_HEADERS.reason)).toMatch(/invalid 'cs.object.changed' v1 data: .*csVersion/);
    expect(h(1, DLQ_HEADERS.originalOffset)).toBe('1');

    expect(dead[2]!.key).toBeNull();
    expect(h(2, DLQ_HEADERS.reason)).toMatch(/unexpected message type 'mv.object.changed'/);
    expect(h(2, DLQ_HEADERS.originalOffset)).toBe('2');

    await waitFor('offset 4 committed', async () => (await committedOffsets(kafka, groupId, t))[0] === '4');

    const warnings = logger.at('warn').filter((l) => l.msg === 'message dead-lettered' && l.obj['topic'] === t);
    expect(warnings.map((w) => w.obj['offset'])).toEqual(['0', '1', '2']);
    expect(warnings[0]!.obj).toMatchObject({ partition: 0, groupId, error: 'ContractViolation', dlqTopic: deadLetterTopic(t) });
    // the value never reaches the logs
    expect(JSON.stringify(logger.lines)).not.toContain('this is {not json');
  });

  it('retries a retriable handler failure in place, then succeeds: handled once, committed once, nothing dead-lettered', async () => {
    const t = await topic();
    const first = csChange('exchange/flaky', 1);
    const second = csChange('exchange/next', 1);
    await producer.send(t, [
      { key: 'exchange/flaky', message: first },
      { key: 'exchange/next', message: second },
    ]);
    const attempts: number[] = [];
    const succeeded: string[] = [];
    const groupId = unique('mw-int-group');
    const handle = async (message: Message, ctx: ConsumeContext) => {
      if (message.eventId === first.eventId) {
        attempts.push(ctx.attempt);
        if (ctx.attempt < 3) throw new MessagingError('database briefly unavailable', { retriable: true });
      }
      succeeded.push(message.eventId);
    };
    const loop = await startLoop({ groupId, topics: [t], handle, retry: { initialBackoffMs: 50, maxBackoffMs: 200 } });
    await waitFor('both messages handled', () => succeeded.length === 2);
    expect(attempts).toEqual([1, 2, 3]);
    expect(succeeded).toEqual([first.eventId, second.eventId]);
    await waitFor('offset 2 committed', async () => (await committedOffsets(kafka, groupId, t))[0] === '2');
    const retryLogs = logger.at('warn').filter((l) => l.obj['topic'] === t && l.msg.startsWith('handler failed with a retriable error'));
    expect(retryLogs.map((l) => l.obj['attempt'])).toEqual([1, 2]);
    await loop.stop();

    // Same group again: nothing is redelivered; the first thing it sees is a new sentinel.
    const sentinel = csChange('exchange/sentinel', 1);
    await producer.send(t, [{ key: 'exchange/sentinel', message: sentinel }]);
    const after: string[] = [];
    await startLoop({ groupId, topics: [t], handle: async (m) => void after.push(m.eventId) });
    await waitFor('sentinel handled', () => after.includes(sentinel.eventId));
    expect(after).toEqual([sentinel.eventId]);
    expect(await recordCount(kafka, deadLetterTopic(t))).toBe(0);
  });

  it('dead-letters after maxRetries with "retries exhausted", then goes on', async () => {
    const t = await topic();
    const doomed = csChange('exchange/doomed', 1);
    const next = csChange('exchange/next', 1);
    await producer.send(t, [
      { key: 'exchange/doomed', message: doomed },
      { key: 'exchange/next', message: next },
    ]);
    const attempts: number[] = [];
    const handled: string[] = [];
    const groupId = unique('mw-int-group');
    await startLoop({
      groupId,
      topics: [t],
      retry: { maxRetries: 2, initialBackoffMs: 20, maxBackoffMs: 50 },
      handle: async (m, ctx) => {
        if (m.eventId === doomed.eventId) {
          attempts.push(ctx.attempt);
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5433'), { code: 'ECONNREFUSED' });
        }
        handled.push(m.eventId);
      },
    });
    await waitFor('the next message handled', () => handled.length === 1);
    expect(attempts).toEqual([1, 2, 3]);
    const [dead] = await readRaw(kafka, deadLetterTopic(t), 1);
    expect(dead!.headers[DLQ_HEADERS.reason]!.toString()).toBe('retries exhausted: connect ECONNREFUSED 127.0.0.1:5433');
    expect(dead!.headers[DLQ_HEADERS.retriable]!.toString()).toBe('true');
    expect(dead!.headers[DLQ_HEADERS.error]!.toString()).toBe('Error');
    expect(JSON.parse(dead!.value!.toString()).eventId).toBe(doomed.eventId);
    expect(dead!.key!.toString()).toBe('exchange/doomed');
    await waitFor('offset 2 committed', async () => (await committedOffsets(kafka, groupId, t))[0] === '2');
  });

  it('dead-letters a non-retriable handler failure at once and goes on', async () => {
    const t = await topic();
    const buggy = csChange('exchange/buggy', 1);
    const next = csChange('exchange/next', 1);
    await producer.send(t, [
      { key: 'exchange/buggy', message: buggy, headers: { 'x-test': 'kept' } },
      { key: 'exchange/next', message: next },
    ]);
    const attempts: number[] = [];
    const handled: string[] = [];
    const groupId = unique('mw-int-group');
    await startLoop({
      groupId,
      topics: [t],
      handle: async (m, ctx) => {
        if (m.eventId === buggy.eventId) {
          attempts.push(ctx.attempt);
          const data = undefined as unknown as { x: number };
          void data.x; // TypeError: a bug, retrying cannot help
        }
        handled.push(m.eventId);
      },
    });
    await waitFor('the next message handled', () => handled.length === 1);
    expect(attempts).toEqual([1]);
    expect(handled).toEqual([next.eventId]);
    const [dead] = await readRaw(kafka, deadLetterTopic(t), 1);
    expect(dead!.headers[DLQ_HEADERS.error]!.toString()).toBe('TypeError');
    expect(dead!.headers[DLQ_HEADERS.retriable]!.toString()).toBe('false');
    expect(dead!.headers[DLQ_HEADERS.reason]!.toString()).toMatch(/Cannot read properties of undefined/);
    expect(dead!.headers['x-test']!.toString()).toBe('kept');
    await waitFor('offset 2 committed', async () => (await committedOffsets(kafka, groupId, t))[0] === '2');
  });

  it('stop() lets the in-flight message finish and commits it; the next member of the group resumes right after it', async () => {
    const t = await topic();
    const messages = Array.from({ length: 10 }, (_, i) => csChange('exchange/object', i + 1));
    await producer.send(
      t,
      messages.map((message) => ({ key: 'exchange/object', message })),
    );
    const groupId = unique('mw-int-group');
    const firstRun: number[] = [];
    const reachedThird = deferred();
    const releaseThird = deferred();
    const loop = await startLoop({
      groupId,
      topics: [t],
      handle: async (m) => {
        const v = (m as Message<'cs.object.changed'>).data.csVersion;
        if (v === 3) {
          reachedThird.resolve();
          await releaseThird.promise;
        }
        firstRun.push(v);
      },
    });
    await reachedThird.promise;
    const stopping = loop.stop();
    expect(loop.isRunning()).toBe(false);
    releaseThird.resolve();
    await stopping;
    expect(firstRun).toEqual([1, 2, 3]);
    expect((await committedOffsets(kafka, groupId, t))[0]).toBe('3');

    const secondRun: number[] = [];
    await startLoop({ groupId, topics: [t], handle: async (m) => void secondRun.push((m as Message<'cs.object.changed'>).data.csVersion) });
    await waitFor('the rest handled', () => secondRun.length >= 7);
    expect(secondRun).toEqual([4, 5, 6, 7, 8, 9, 10]);
    await waitFor('offset 10 committed', async () => (await committedOffsets(kafka, groupId, t))[0] === '10');
  });

  it('stop() during a retry backoff abandons the message uncommitted; it is redelivered to the next member', async () => {
    const t = await topic();
    const stuck = csChange('exchange/stuck', 1);
    await producer.send(t, [{ key: 'exchange/stuck', message: stuck }]);
    const groupId = unique('mw-int-group');
    const failedOnce = deferred();
    const loop = await startLoop({
      groupId,
      topics: [t],
      retry: { initialBackoffMs: 60_000, maxBackoffMs: 60_000 },
      handle: async () => {
        failedOnce.resolve();
        throw new MessagingError('downstream unavailable', { retriable: true });
      },
    });
    await failedOnce.promise;
    const started = Date.now();
    await loop.stop();
    expect(Date.now() - started).toBeLessThan(20_000); // not the 60 s backoff
    expect((await committedOffsets(kafka, groupId, t))[0]).toBe('-1');

    const redelivered: ConsumeContext[] = [];
    await startLoop({ groupId, topics: [t], handle: async (_m, ctx) => void redelivered.push(ctx) });
    await waitFor('redelivered', () => redelivered.length === 1);
    expect(redelivered[0]).toMatchObject({ offset: '0', attempt: 1 });
    expect(await recordCount(kafka, deadLetterTopic(t))).toBe(0);
  });

  it('a second member joining mid-stream: nothing is lost and each key stays in order across the handover', async () => {
    const t = await topic(3);
    const keys = Array.from({ length: 6 }, (_, i) => `exchange/r${i}`);
    const items = [];
    for (let v = 1; v <= 15; v++) for (const key of keys) items.push({ key, message: csChange(key, v) });
    await producer.send(t, items);
    const groupId = unique('mw-int-group');
    const handled: { member: string; key: string; version: number }[] = [];
    const handler = (member: string) => async (m: Message, ctx: ConsumeContext) => {
      await new Promise((r) => setTimeout(r, 40));
      handled.push({ member, key: ctx.key!, version: (m as Message<'cs.object.changed'>).data.csVersion });
    };
    await startLoop({ groupId, topics: [t], handle: handler('A'), heartbeatIntervalMs: 500 });
    await waitFor('A handled some', () => handled.length >= 10);
    const b = await startLoop({ groupId, topics: [t], handle: handler('B'), heartbeatIntervalMs: 500 });
    await waitFor('every message handled at least once', () => keys.every((k) => new Set(handled.filter((h) => h.key === k).map((h) => h.version)).size === 15), 90_000);
    expect(b.assignment()?.[0]?.partitions.length ?? 0).toBeGreaterThan(0);
    expect(new Set(handled.map((h) => h.member))).toEqual(new Set(['A', 'B']));
    for (const key of keys) {
      const versions = handled.filter((h) => h.key === key).map((h) => h.version);
      // at-least-once: a message in flight during the rebalance may be handled twice, never out of order
      for (let i = 1; i < versions.length; i++) expect(versions[i]!).toBeGreaterThanOrEqual(versions[i - 1]!);
    }
    await waitFor('all offsets committed', async () => {
      const committed = await committedOffsets(kafka, groupId, t);
      return Object.values(committed).reduce((n, o) => n + Number(o), 0) === items.length;
    });
  });

  it('keeps heartbeating while a slow handler runs and while it backs off: the member is not kicked out of the group', async () => {
    const t = await topic();
    const slow = csChange('exchange/slow', 1);
    await producer.send(t, [{ key: 'exchange/slow', message: slow }]);
    const groupId = unique('mw-int-group');
    const attempts: number[] = [];
    const started = Date.now();
    await startLoop({
      groupId,
      topics: [t],
      sessionTimeoutMs: 6000, // the broker's minimum (group.min.session.timeout.ms)
      heartbeatIntervalMs: 1000,
      retry: { initialBackoffMs: 4000, maxBackoffMs: 4000 },
      handle: async (_m, ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) {
          await new Promise((r) => setTimeout(r, 7000)); // longer than the session timeout
          throw new MessagingError('slow downstream timed out', { retriable: true });
        }
      },
    });
    await waitFor('second attempt', () => attempts.length === 2, 90_000);
    expect(Date.now() - started).toBeGreaterThan(6000 + 3200);
    await waitFor('offset 1 committed', async () => (await committedOffsets(kafka, groupId, t))[0] === '1');
    expect(attempts).toEqual([1, 2]);
    // one join only: no session expiry, no rebalance, no redelivery
    expect(logger.at('info').filter((l) => l.msg === 'joined consumer group' && l.obj['groupId'] === groupId)).toHaveLength(1);
  });

  it('onPartitionsAssigned: seeks to the offsets a consumer keeps in its own database before processing', async () => {
    const t = await topic(2);
    // 10 messages per partition, placed explicitly (plain kafkajs producer).
    const records = [];
    for (let partition = 0; partition < 2; partition++) {
      for (let i = 1; i <= 10; i++) records.push(csChange(`exchange/p${partition}`, i));
    }
    const raw = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await raw.connect();
    await raw.send({
      topic: t,
      messages: records.map((m) => ({ partition: m.data.anchor.endsWith('p0') ? 0 : 1, key: m.data.anchor, value: JSON.stringify(m) })),
    });
    await raw.disconnect();

    const handled: ConsumeContext[] = [];
    const assignments: { topic: string; partitions: number[] }[][] = [];
    await startLoop({
      topics: [t],
      handle: async (_m, ctx) => void handled.push(ctx),
      onPartitionsAssigned: async (assignment) => {
        assignments.push(assignment);
        await new Promise((r) => setTimeout(r, 300)); // a slow database, to prove processing waits
        return [
          { topic: t, partition: 0, offset: '6' },
          { topic: 'some-other-topic', partition: 0, offset: '1' }, // not assigned: ignored with a warning
        ];
      },
    });
    await waitFor('4 + 10 messages handled', () => handled.length >= 14);
    expect(assignments[0]).toEqual([{ topic: t, partitions: [0, 1] }]);
    expect(handled.filter((h) => h.partition === 0).map((h) => h.offset)).toEqual(['6', '7', '8', '9']);
    expect(handled.filter((h) => h.partition === 1).map((h) => h.offset)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(logger.at('warn').some((l) => l.msg.startsWith('onPartitionsAssigned returned an offset for a partition not assigned'))).toBe(true);
  });

  it('onPartitionsAssigned: a retriable failure is retried before anything is processed; a non-retriable one stops the loop', async () => {
    const t = await topic();
    await producer.send(
      t,
      [1, 2, 3, 4].map((v) => ({ key: 'exchange/h', message: csChange('exchange/h', v) })),
    );
    const handled: string[] = [];
    let calls = 0;
    await startLoop({
      topics: [t],
      retry: { initialBackoffMs: 100, maxBackoffMs: 200 },
      handle: async (_m, ctx) => void handled.push(ctx.offset),
      onPartitionsAssigned: async () => {
        calls++;
        if (calls === 1) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5433'), { code: 'ECONNREFUSED' });
        return [{ topic: t, partition: 0, offset: '2' }];
      },
    });
    await waitFor('offsets 2 and 3 handled', () => handled.length >= 2);
    expect(calls).toBe(2);
    expect(handled).toEqual(['2', '3']);

    const broken = await startLoop({
      topics: [t],
      handle: async (_m, ctx) => void handled.push(`broken:${ctx.offset}`),
      onPartitionsAssigned: async () => {
        throw new TypeError('position table missing a column');
      },
    });
    await waitFor('the loop stopped itself', () => !broken.isRunning());
    expect(handled.some((h) => h.startsWith('broken:'))).toBe(false);
    expect(logger.at('error').some((l) => l.msg.startsWith('onPartitionsAssigned failed with a non-retriable error'))).toBe(true);
  });
});

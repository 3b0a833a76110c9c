import { deadLetterTopic, type Message } from '@metaweave/contracts';
import type { Kafka } from 'kafkajs';
import { ConsumerLoop, type BatchItem, type ConsumeContext } from './consumer-loop';
import { DLQ_HEADERS } from './headers';
import { CollectingLogger, committedOffsets, createTopic, csChange, deleteTopics, INT_TIMEOUT_MS, readRaw, testKafka, unique, waitFor } from './int-support';
import { MessageProducer } from './producer';

jest.setTimeout(INT_TIMEOUT_MS);

const version = (m: Message) => (m as Message<'cs.object.changed'>).data.csVersion;

/** ConsumerLoop's batch mode (handleBatch) against a real Kafka. */
describe('ConsumerLoop batch mode', () => {
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

  async function topic(): Promise<string> {
    const t = await createTopic(kafka, logger, 1);
    topics.push(t);
    return t;
  }

  it('hands whole batches to handleBatch in order and commits after the last', async () => {
    const t = await topic();
    await producer.send(t, Array.from({ length: 300 }, (_, i) => ({ key: 'k', message: csChange('a', i + 1) })));
    const batches: number[][] = [];
    const singles: number[] = [];
    const groupId = unique('mw-int-group');
    const loop = new ConsumerLoop({
      kafka,
      groupId,
      topics: [t],
      logger,
      fromBeginning: true,
      maxBatchSize: 100,
      handleBatch: async (items) => void batches.push(items.map((i) => version(i.message))),
      handle: async (m) => void singles.push(version(m)),
    });
    loops.push(loop);
    await loop.start();
    await waitFor('300 messages handled', () => batches.flat().length >= 300);
    expect(batches.flat()).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(batches.every((b) => b.length <= 100)).toBe(true);
    expect(batches.length).toBeLessThan(300);
    expect(singles).toEqual([]);
    await waitFor('the offset committed', async () => (await committedOffsets(kafka, groupId, t))[0] === '300');
  });

  it('isolates a poisoned message: undecodable or refused by the batch handler, only it is dead-lettered', async () => {
    const t = await topic();
    await producer.send(t, Array.from({ length: 10 }, (_, i) => ({ key: 'k', message: csChange('a', i + 1) })));
    await producer.sendRaw(t, [{ key: 'k', value: 'not json' }]);
    await producer.send(t, Array.from({ length: 10 }, (_, i) => ({ key: 'k', message: csChange('a', i + 11) })));
    const applied: number[] = [];
    const deadLettered: ConsumeContext[] = [];
    const apply = async (items: readonly BatchItem[]) => {
      // version 15 is "bad data" the handler refuses for good (not retriable)
      if (items.some((i) => version(i.message) === 15)) throw new Error('version 15 is refused');
      applied.push(...items.map((i) => version(i.message)));
    };
    const loop = new ConsumerLoop({
      kafka,
      groupId: unique('mw-int-group'),
      topics: [t],
      logger,
      fromBeginning: true,
      handleBatch: apply,
      handle: (message, ctx) => apply([{ message, ctx }]),
      onDeadLettered: async (ctx) => void deadLettered.push(ctx),
    });
    loops.push(loop);
    await loop.start();
    await waitFor('every good message applied and two dead letters', () => applied.length >= 19 && deadLettered.length >= 2);
    expect(applied).toEqual([...Array.from({ length: 14 }, (_, i) => i + 1), ...Array.from({ length: 5 }, (_, i) => i + 16)]);
    expect(deadLettered.map((c) => c.offset)).toEqual(['10', '15']);
    const dlq = await readRaw(kafka, deadLetterTopic(t), 2);
    expect(dlq.map((r) => r.headers[DLQ_HEADERS.reason]?.toString())).toEqual([expect.stringMatching(/not JSON/), 'version 15 is refused']);
  });
});

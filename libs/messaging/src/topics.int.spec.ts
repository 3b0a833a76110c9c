import { ConfigResourceTypes, type Kafka } from 'kafkajs';
import type { Message } from '@metaweave/contracts';
import { MessagingStateError, TopicMismatchError } from './errors';
import { CollectingLogger, csChange, deleteTopics, INT_TIMEOUT_MS, readRaw, testKafka, unique } from './int-support';
import { MessageProducer } from './producer';
import { ensureTopics } from './topics';

jest.setTimeout(INT_TIMEOUT_MS);

describe('ensureTopics and MessageProducer against a real Kafka', () => {
  const logger = new CollectingLogger();
  let kafka: Kafka;
  const created: string[] = [];

  beforeAll(() => {
    kafka = testKafka(logger);
  });

  afterAll(async () => {
    await deleteTopics(kafka, created);
  });

  async function describeTopic(name: string): Promise<{ partitions: number; retentionMs: string | undefined }> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [name] });
      const { resources } = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms'] }], includeSynonyms: false });
      return { partitions: topics[0]!.partitions.length, retentionMs: resources[0]!.configEntries[0]?.configValue };
    } finally {
      await admin.disconnect();
    }
  }

  it('creates missing topics with their partitions and retention, and is idempotent', async () => {
    const forever = { name: unique('mw-int-forever'), partitions: 4, retentionMs: -1, description: 'infinite retention' };
    const week = { name: unique('mw-int-week'), partitions: 2, retentionMs: 7 * 24 * 3600 * 1000, description: 'a week' };
    created.push(forever.name, week.name);

    const first = await ensureTopics(kafka, [forever, week], logger);
    expect([...first.created].sort()).toEqual([forever.name, week.name].sort());
    expect(await describeTopic(forever.name)).toEqual({ partitions: 4, retentionMs: '-1' });
    expect(await describeTopic(week.name)).toEqual({ partitions: 2, retentionMs: String(7 * 24 * 3600 * 1000) });

    const again = await ensureTopics(kafka, [forever, week], logger);
    expect(again.created).toEqual([]);
    expect([...again.existing].sort()).toEqual([forever.name, week.name].sort());
  });

  it('is safe when several processes create the same topics at once', async () => {
    const specs = [1, 2, 3].map((n) => ({ name: unique(`mw-int-race${n}`), partitions: n, retentionMs: 3_600_000, description: 'race' }));
    created.push(...specs.map((s) => s.name));
    const clients = [0, 1, 2].map(() => testKafka(logger));
    const results = await Promise.all(clients.map((k) => ensureTopics(k, specs, logger)));
    const creations = results.flatMap((r) => r.created);
    expect([...creations].sort()).toEqual(specs.map((s) => s.name).sort()); // each created exactly once
    for (const s of specs) expect((await describeTopic(s.name)).partitions).toBe(s.partitions);
  });

  it('refuses an existing topic whose partition count differs, naming it', async () => {
    const spec = { name: unique('mw-int-mismatch'), partitions: 2, retentionMs: 3_600_000, description: 'mismatch' };
    created.push(spec.name);
    await ensureTopics(kafka, [spec], logger);
    const attempt = ensureTopics(kafka, [{ ...spec, partitions: 6 }], logger);
    await expect(attempt).rejects.toBeInstanceOf(TopicMismatchError);
    await expect(ensureTopics(kafka, [{ ...spec, partitions: 6 }], logger)).rejects.toThrow(
      new RegExp(`${spec.name} has 2 partitions, expected 6`),
    );
    // retention differences are reported, not fatal
    await ensureTopics(kafka, [{ ...spec, retentionMs: 60_000 }], logger);
    expect(logger.at('warn').some((l) => l.obj['topic'] === spec.name && l.msg.startsWith('topic retention.ms differs'))).toBe(true);
  });

  it('producer: validates before sending, refuses to send unconnected, sends with headers', async () => {
    const spec = { name: unique('mw-int-produce'), partitions: 1, retentionMs: 3_600_000, description: 'produce' };
    created.push(spec.name);
    await ensureTopics(kafka, [spec], logger);
    const producer = new MessageProducer({ kafka, logger });
    const good = csChange('exchange/p', 1);
    await expect(producer.send(spec.name, [{ key: 'exchange/p', message: good }])).rejects.toBeInstanceOf(MessagingStateError);
    await producer.connect();
    try {
      const invalid = { ...good, data: { ...good.data, csVersion: 0 } } as Message;
      await expect(producer.send(spec.name, [{ key: 'exchange/p', message: invalid }])).rejects.toThrow(/refusing to emit invalid/);
      const [meta] = await producer.send(spec.name, [{ key: 'exchange/p', message: good, headers: { 'x-run': 'r1' } }]);
      expect(meta).toMatchObject({ topicName: spec.name, partition: 0, errorCode: 0 });
      const [record] = await readRaw(kafka, spec.name, 1);
      expect(record!.key!.toString()).toBe('exchange/p');
      expect(record!.headers['x-run']!.toString()).toBe('r1');
      expect(JSON.parse(record!.value!.toString())).toEqual(good);
    } finally {
      await producer.disconnect();
    }
  });
});

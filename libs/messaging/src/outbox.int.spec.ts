import type { Message } from '@metaweave/contracts';
import type { Kafka } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import { OutboxLockedError } from './errors';
import {
  CollectingLogger,
  createTopic,
  csChange,
  deleteTopics,
  INT_TIMEOUT_MS,
  openAdminPool,
  readRaw,
  recordCount,
  testKafka,
  unique,
  waitFor,
  type RawReceived,
} from './int-support';
import { enqueueOutbox, outboxTableSql, OutboxRelay, quoteIdent, type OutboxItem } from './outbox';
import { MessageProducer } from './producer';

jest.setTimeout(INT_TIMEOUT_MS);

describe('transactional outbox against real PostgreSQL and Kafka', () => {
  const logger = new CollectingLogger();
  const schema = unique('mw_msg_outbox').replace(/-/g, '_');
  let kafka: Kafka;
  let producer: MessageProducer;
  let pool: Pool;
  const topics: string[] = [];
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    kafka = testKafka(logger);
    producer = new MessageProducer({ kafka, logger });
    await producer.connect();
    pool = openAdminPool(10);
    await pool.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
  });

  afterAll(async () => {
    await producer?.disconnect();
    if (pool) {
      await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      await pool.end();
    }
    await deleteTopics(kafka, topics.flatMap((t) => [t, `${t}.dlq`]));
  });

  async function setup(partitions = 3): Promise<{ topic: string; table: string }> {
    const topic = await createTopic(kafka, logger, partitions);
    topics.push(topic);
    const table = unique('outbox').replace(/-/g, '_');
    await pool.query(outboxTableSql(schema, table));
    return { topic, table };
  }

  function relay(table: string, options: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {}): OutboxRelay {
    const r = new OutboxRelay({ pool, schema, table, producer, logger, takeoverIntervalMs: 200, ...options });
    relays.push(r);
    return r;
  }

  async function inTransaction(fn: (client: PoolClient) => Promise<void>, outcome: 'COMMIT' | 'ROLLBACK' = 'COMMIT'): Promise<void> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await fn(client);
      await client.query(outcome);
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
  }

  async function enqueue(table: string, items: OutboxItem[], outcome: 'COMMIT' | 'ROLLBACK' = 'COMMIT'): Promise<void> {
    await inTransaction((client) => enqueueOutbox((sql, params) => client.query(sql, params), schema, items, table), outcome);
  }

  async function rowCount(table: string): Promise<number> {
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(schema)}.${quoteIdent(table)}`);
    return Number(rows[0]!.n);
  }

  function changes(topic: string, keys: string[], from: number, to: number): OutboxItem[] {
    const items: OutboxItem[] = [];
    for (let v = from; v <= to; v++) for (const key of keys) items.push({ topic, key, message: csChange(key, v) });
    return items;
  }

  function expectOrderPerKey(received: RawReceived[], keys: string[], versions: number): void {
    for (const key of keys) {
      const got = received
        .filter((r) => r.key?.toString() === key)
        .sort((a, b) => Number(a.offset) - Number(b.offset))
        .map((r) => (JSON.parse(r.value!.toString()) as Message<'cs.object.changed'>).data.csVersion);
      expect(got).toEqual(Array.from({ length: versions }, (_, i) => i + 1));
    }
  }

  it('publishes committed rows in id order per key, deletes them, never publishes a rolled-back transaction; NOTIFY wakes the relay', async () => {
    const { topic, table } = await setup();
    const keys = ['exchange/a', 'exchange/b', 'exchange/c'];
    // idle polling effectively off: only LISTEN/NOTIFY can make this relay publish promptly
    const r = relay(table, { idleDelayMs: 600_000 });
    await r.start();
    expect(r.isActive()).toBe(true);

    const rolledBack = changes(topic, ['exchange/ghost'], 1, 3);
    await enqueue(table, changes(topic, keys, 1, 5));
    await enqueue(table, rolledBack, 'ROLLBACK');
    await enqueue(table, [...changes(topic, keys, 6, 10)].map((i) => ({ ...i, headers: { 'x-request': 'r-1' } })));

    const received = await readRaw(kafka, topic, 30);
    await waitFor('outbox emptied', async () => (await rowCount(table)) === 0);
    expect(await recordCount(kafka, topic)).toBe(30);
    expectOrderPerKey(received, keys, 10);
    const ghostIds = new Set(rolledBack.map((i) => i.message.eventId));
    expect(received.some((m) => ghostIds.has(JSON.parse(m.value!.toString()).eventId))).toBe(false);
    expect(received.filter((m) => m.headers['x-request']?.toString() === 'r-1')).toHaveLength(15);
  });

  it('one active relay per table: the second is a standby, refuses drainOnce, and takes over when the first stops', async () => {
    const { topic, table } = await setup();
    const keys = ['exchange/k1', 'exchange/k2'];
    const first = relay(table);
    const second = relay(table);
    await first.start();
    await second.start();
    expect(first.isActive()).toBe(true);
    expect(second.isActive()).toBe(false);
    await expect(second.drainOnce()).rejects.toBeInstanceOf(OutboxLockedError);

    await enqueue(table, changes(topic, keys, 1, 5));
    await readRaw(kafka, topic, 10);
    await waitFor('outbox emptied by the first relay', async () => (await rowCount(table)) === 0);
    expect(second.isActive()).toBe(false);

    await first.stop();
    expect(first.isActive()).toBe(false);
    await waitFor('the standby took over', () => second.isActive());
    await enqueue(table, changes(topic, keys, 6, 10));
    const received = await readRaw(kafka, topic, 20);
    await waitFor('outbox emptied by the second relay', async () => (await rowCount(table)) === 0);
    expect(await recordCount(kafka, topic)).toBe(20);
    expectOrderPerKey(received, keys, 10);
  });

  it('two relays racing over a busy outbox publish every row exactly once, in order per key, in small batches', async () => {
    const { topic, table } = await setup();
    const keys = Array.from({ length: 6 }, (_, i) => `exchange/obj${i}`);
    const a = relay(table, { batchSize: 7 });
    const b = relay(table, { batchSize: 7 });
    await Promise.all([a.start(), b.start()]);
    expect([a.isActive(), b.isActive()].filter(Boolean)).toHaveLength(1);
    for (let v = 1; v <= 20; v += 2) await enqueue(table, changes(topic, keys, v, v + 1));
    const received = await readRaw(kafka, topic, 120);
    await waitFor('outbox emptied', async () => (await rowCount(table)) === 0);
    expect(await recordCount(kafka, topic)).toBe(120);
    expectOrderPerKey(received, keys, 20);
  });

  it('keeps rows while Kafka does not acknowledge them, and publishes them once it does', async () => {
    const { topic, table } = await setup(1);
    const offline = new MessageProducer({ kafka, logger }); // never connected: every send fails
    const r = relay(table, { producer: offline, errorBackoff: { initialBackoffMs: 50, maxBackoffMs: 200 } });
    await r.start();
    await enqueue(table, changes(topic, ['exchange/wait'], 1, 3));
    await waitFor('the relay reported the failure', () =>
      logger.at('error').some((l) => l.msg.startsWith('outbox relay failed') && String(l.obj['table']).includes(table)),
    );
    expect(await rowCount(table)).toBe(3);
    await r.stop();

    const healthy = relay(table);
    await healthy.start();
    const received = await readRaw(kafka, topic, 3);
    await waitFor('outbox emptied', async () => (await rowCount(table)) === 0);
    expectOrderPerKey(received, ['exchange/wait'], 3);
  });

  it('drainOnce publishes what is there and returns the count; enqueueOutbox validates messages inside the transaction', async () => {
    const { topic, table } = await setup(1);
    const r = relay(table);
    expect(await r.drainOnce()).toBe(0);
    await enqueue(table, changes(topic, ['exchange/d'], 1, 4));
    expect(await r.drainOnce()).toBe(4);
    expect(await rowCount(table)).toBe(0);
    expect(await r.drainOnce()).toBe(0);

    const invalid = { ...csChange('exchange/bad', 1), data: { csVersion: -1 } } as unknown as Message;
    await expect(enqueue(table, [{ topic, key: 'exchange/bad', message: invalid }])).rejects.toThrow(/refusing to emit invalid 'cs.object.changed'/);
    expect(await rowCount(table)).toBe(0);
  });
});

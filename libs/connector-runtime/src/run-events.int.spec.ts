import type { Connector, CsImage, DeltaResult, ImportSink, ObjectError } from '@metaweave/connector-sdk';
import { decodeMessage, TOPICS, type Message } from '@metaweave/contracts';
import { MessageProducer, OutboxRelay, ensureTopics, quoteIdent } from '@metaweave/messaging';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { CollectingLogger, adminDatabaseUrl, deleteTopics, openAdminPool, readRaw, recordCount, testKafka, unique, waitFor } from '../../messaging/src/int-support';
import { RunDriver } from './run-driver';
import { openConnectorSpace } from './int-support';

jest.setTimeout(120_000);

/**
 * A connector over an in-memory directory: a real implementation of the SPI (no infrastructure
 * behind it to mock), so these tests are about what the driver does with what a connector reads.
 */
class MemoryDirectory implements Connector {
  readonly name = 'memdir';
  readonly objects = new Map<string, CsImage>();
  /** Objects the next reads report as unreadable. */
  readonly broken = new Set<string>();
  failRead: string | null = null;
  pending: DeltaResult | null = null;
  readonly capabilities = {
    fullImport: { fullImport: (p: string, sink: ImportSink) => this.read(p, sink) },
    deltaImport: {
      strategy: 'memory',
      deltaImport: async (): Promise<DeltaResult> => this.pending ?? { outcome: 'changes', changes: [], watermark: 'w' },
    },
  };
  partitions(): readonly string[] {
    return ['SiteA'];
  }
  async test() {
    return { reachable: true, canRead: true, canWrite: false, detail: 'memory' };
  }
  async dispose(): Promise<void> {}
  private async read(partition: string, sink: ImportSink): Promise<{ watermark: string }> {
    const all = [...this.objects.values()].filter((o) => o.partition === partition);
    for (let i = 0; i < all.length; i += 100) {
      const page = all.slice(i, i + 100);
      for (const o of page.filter((x) => this.broken.has(x.anchor))) sink.objectError({ object: o.dn, type: 'invalid-sid', message: `${o.dn}: Assoc-NT-Account is 7 bytes` });
      await sink.page(page.filter((x) => !this.broken.has(x.anchor)));
      if (this.failRead && i >= 100) throw new Error(this.failRead);
    }
    return { watermark: 'w' };
  }
}

const image = (i: number): CsImage => ({
  anchor: `a${i}`,
  partition: 'SiteA',
  dn: `cn=u${i},cn=Recipients,ou=SiteA,o=Contoso`,
  objectType: 'mailbox',
  attributes: { uid: [`u${i}`] },
});

describe('run events of the run driver (real PostgreSQL, outbox relay, Kafka)', () => {
  const logger = new CollectingLogger();
  const schema = unique('mw_rt_runev').replace(/-/g, '_');
  const prefix = `${unique('rt')}.`;
  let kafka: Kafka;
  let pool: Pool;
  let db: DataSource;
  let producer: MessageProducer;
  let relay: OutboxRelay;
  let runTopic: string;
  let csTopic: string;
  const dir = new MemoryDirectory();
  let driver: RunDriver;

  beforeAll(async () => {
    kafka = testKafka(logger);
    pool = openAdminPool(4);
    db = await openConnectorSpace(pool, adminDatabaseUrl(), schema, 4);
    // Topics named as a service names them: `<prefix>mw.cs.changes` and `<prefix>mw.run.events`.
    csTopic = `${prefix}${TOPICS.csChanges.name}`;
    runTopic = `${prefix}${TOPICS.runEvents.name}`;
    await ensureTopics(
      kafka,
      [csTopic, runTopic].map((name) => ({ name, partitions: 1, retentionMs: 3_600_000, description: 'integration test' })),
      logger,
    );
    producer = new MessageProducer({ kafka, logger });
    await producer.connect();
    relay = new OutboxRelay({ pool, schema, producer, logger });
    await relay.start();
    // No run-events topic option: the driver derives it from the CS topic, as every connector service gets it.
    driver = new RunDriver({ db, schema, connector: dir, topic: csTopic, source: 'run-events-test', logger, pageSize: 50, progressIntervalMs: 0 });
  });

  afterAll(async () => {
    await relay?.stop();
    await producer?.disconnect();
    await db?.destroy();
    await pool?.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await pool?.end();
    await deleteTopics(kafka, [csTopic, runTopic]).catch(() => undefined);
  });

  /** Every run event published so far, decoded (and so validated against the v1 schema). */
  async function runEvents(): Promise<{ key: string; message: Message<'run.event'> }[]> {
    const n = await recordCount(kafka, runTopic);
    const raw = await readRaw(kafka, runTopic, n);
    return raw.map((r) => ({ key: r.key!.toString(), message: decodeMessage(r.value, ['run.event']) as Message<'run.event'> }));
  }

  async function eventsOf(runId: string, until: (events: Message<'run.event'>[]) => boolean): Promise<Message<'run.event'>[]> {
    let events: Message<'run.event'>[] = [];
    await waitFor(`run events of ${runId}`, async () => {
      events = (await runEvents()).filter((e) => e.message.data.runId === runId).map((e) => e.message);
      return until(events);
    });
    return events.sort((a, b) => a.data.sequence - b.data.sequence);
  }

  it('publishes start, progress and end of a full import, keyed connector/partition, with per-object errors', async () => {
    for (let i = 0; i < 250; i++) dir.objects.set(`a${i}`, image(i));
    dir.broken.add('a7');
    const { runId, done } = await driver.start('full-import', 'SiteA');
    const record = await done;
    expect(record.status).toBe('completed-with-errors');

    const events = await eventsOf(runId, (e) => e.some((x) => x.data.endedAt !== null));
    const raw = (await runEvents()).filter((e) => e.message.data.runId === runId);
    expect(new Set(raw.map((r) => r.key))).toEqual(new Set(['memdir/SiteA']));
    expect(events.map((e) => e.data.sequence)).toEqual(events.map((_, i) => i));

    const [first, ...rest] = events;
    const last = rest[rest.length - 1]!;
    expect(first!.data).toMatchObject({ step: 'full-import', status: 'running', endedAt: null, counters: {} });
    // Pages of 50 with progress after each: the counters grow while the run is running.
    const progress = rest.slice(0, -1);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.every((e) => e.data.status === 'running')).toBe(true);
    const adds = progress.map((e) => e.data.counters['stageAdd'] ?? 0);
    expect(adds).toEqual([...adds].sort((a, b) => a - b));
    expect(adds[adds.length - 1]).toBe(249);

    expect(last.data).toMatchObject({
      status: 'completed-with-errors',
      counters: expect.objectContaining({ stageAdd: 249, stageFailure: 1, stageDelete: 0, deletesWithheld: 0 }),
      errors: [expect.objectContaining({ dn: 'cn=u7,cn=Recipients,ou=SiteA,o=Contoso', anchor: null, type: 'invalid-sid', retryCount: 0 })],
    });
    expect(Date.parse(last.data.endedAt!)).toBeGreaterThanOrEqual(Date.parse(last.data.startedAt));
  });

  it('carries an error\'s first occurrence and retry count across runs', async () => {
    const firstRun = (await runEvents()).map((e) => e.message).find((m) => m.data.errors.length > 0)!;
    const { runId, done } = await driver.start('full-import', 'SiteA');
    await done;
    const events = await eventsOf(runId, (e) => e.some((x) => x.data.endedAt !== null));
    const error = events[events.length - 1]!.data.errors[0]!;
    expect(error).toMatchObject({ type: 'invalid-sid', retryCount: 1, firstOccurred: firstRun.data.errors[0]!.firstOccurred });
  });

  it('says a failed read failed, with deletes withheld, in its last event', async () => {
    dir.broken.clear();
    for (let i = 0; i < 10; i++) dir.objects.delete(`a${i}`);
    dir.failRead = 'connection dropped mid-page';
    const { runId, done } = await driver.start('full-import', 'SiteA');
    expect((await done).status).toBe('failed');
    dir.failRead = null;
    const events = await eventsOf(runId, (e) => e.some((x) => x.data.endedAt !== null));
    expect(events[events.length - 1]!.data).toMatchObject({
      status: 'failed',
      message: expect.stringContaining('connection dropped mid-page'),
      // 249 objects in the CS, 200 read before the drop: the 10 really gone and the 39 never read alike.
      counters: expect.objectContaining({ stageNoChange: 200, stageDelete: 0, deletesWithheld: 49 }),
    });
  });

  it('publishes nothing for a continuous delta that found nothing, and start+end for one that changed something', async () => {
    // A clean full import first: only then is there a watermark to start deltas from.
    expect((await (await driver.start('full-import', 'SiteA')).done).status).toBe('completed');
    await waitFor('the outbox to drain', async () => Number((await pool.query(`SELECT count(*) AS n FROM ${quoteIdent(schema)}.outbox`)).rows[0].n) === 0);
    const before = await recordCount(kafka, runTopic);
    dir.pending = { outcome: 'changes', changes: [], watermark: 'w2' };
    expect((await (await driver.start('delta-import', 'SiteA', { record: false })).done).status).toBe('no-change');
    // Give the relay every chance to publish something it should not.
    await waitFor('the outbox to drain', async () => Number((await pool.query(`SELECT count(*) AS n FROM ${quoteIdent(schema)}.outbox`)).rows[0].n) === 0);
    expect(await recordCount(kafka, runTopic)).toBe(before);

    dir.pending = { outcome: 'changes', changes: [{ kind: 'upsert', image: { ...image(300) } }], watermark: 'w3' };
    const { runId, done } = await driver.start('delta-import', 'SiteA', { record: false });
    expect((await done).counters.stageAdd).toBe(1);
    const events = await eventsOf(runId, (e) => e.some((x) => x.data.endedAt !== null));
    expect(events.map((e) => [e.data.step, e.data.status])).toEqual([
      ['delta-import', 'running'],
      ['delta-import', 'completed'],
    ]);
    dir.pending = null;
  });

  it('records a step that is not an import (export) with its own counters and errors', async () => {
    const errors: ObjectError[] = [{ object: 'a3', type: 'insufficient-rights', message: 'export needs administrator permissions' }];
    const { run } = await driver.recordRun('export', 'SiteA', async (r) => {
      r.counters['exportAdd'] = 2;
      r.counters['exportFailure'] = 1;
      r.errors.push(...errors);
    });
    expect(run).toMatchObject({ step: 'export', status: 'completed-with-errors', counters: { exportAdd: 2, exportFailure: 1 } });
    const events = await eventsOf(run.id, (e) => e.some((x) => x.data.endedAt !== null));
    expect(events[events.length - 1]!.data).toMatchObject({
      step: 'export',
      status: 'completed-with-errors',
      counters: { exportAdd: 2, exportFailure: 1, deletesWithheld: 0 },
      errors: [expect.objectContaining({ anchor: 'a3', dn: null, type: 'insufficient-rights' })],
    });
  });
});

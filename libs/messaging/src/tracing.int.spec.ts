// The OpenTelemetry SDK is registered here, in the test, as an application would at boot; the
// library itself only uses @opentelemetry/api.
import { deadLetterTopic } from '@metaweave/contracts';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { ConsumerLoop } from './consumer-loop';
import { CollectingLogger, createTopic, csChange, deleteTopics, INT_TIMEOUT_MS, openAdminPool, readRaw, testKafka, unique, waitFor } from './int-support';
import { enqueueOutbox, outboxTableSql, OutboxRelay, quoteIdent } from './outbox';
import { MessageProducer } from './producer';
import { ATTR } from './tracing';

jest.setTimeout(INT_TIMEOUT_MS);

describe('trace context across Kafka', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const contextManager = new AsyncLocalStorageContextManager();
  const logger = new CollectingLogger();
  const schema = unique('mw_msg_trace').replace(/-/g, '_');
  let kafka: Kafka;
  let producer: MessageProducer;
  let pool: Pool;
  const topics: string[] = [];
  const loops: ConsumerLoop[] = [];

  beforeAll(async () => {
    context.setGlobalContextManager(contextManager.enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    kafka = testKafka(logger);
    producer = new MessageProducer({ kafka, logger });
    await producer.connect();
    pool = openAdminPool();
    await pool.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    await pool.query(outboxTableSql(schema));
  });

  afterEach(async () => {
    await Promise.all(loops.splice(0).map((l) => l.stop()));
  });

  afterAll(async () => {
    await producer?.disconnect();
    if (pool) {
      await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      await pool.end();
    }
    await deleteTopics(kafka, topics.flatMap((t) => [t, deadLetterTopic(t)]));
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  const spans = () => exporter.getFinishedSpans();
  const named = (name: string) => spans().filter((s) => s.name === name);

  async function topicAndLoop(handle: ConstructorParameters<typeof ConsumerLoop>[0]['handle']): Promise<string> {
    const t = await createTopic(kafka, logger);
    topics.push(t);
    const loop = new ConsumerLoop({ kafka, groupId: unique('mw-int-group'), topics: [t], logger, fromBeginning: true, handle });
    loops.push(loop);
    await loop.start();
    return t;
  }

  it('the consumer span continues the producer span; work inside the handler joins the same trace', async () => {
    const inHandler: { traceId: string; spanId: string }[] = [];
    const t = await topicAndLoop(async () => {
      const active = trace.getActiveSpan()!.spanContext();
      inHandler.push({ traceId: active.traceId, spanId: active.spanId });
      trace.getTracer('test').startSpan('work inside the handler').end();
    });
    const message = csChange('exchange/traced', 1);
    const root = trace.getTracer('test').startSpan('test root');
    await context.with(trace.setSpan(context.active(), root), () => producer.send(t, [{ key: 'exchange/traced', message }]));
    root.end();

    await waitFor('consumer span finished', () => named(`${t} process`).length === 1);
    const [publish] = named(`${t} publish`) as [ReadableSpan];
    const [processSpan] = named(`${t} process`) as [ReadableSpan];
    const [work] = named('work inside the handler') as [ReadableSpan];
    const traceId = root.spanContext().traceId;

    expect(publish.kind).toBe(SpanKind.PRODUCER);
    expect(publish.spanContext().traceId).toBe(traceId);
    expect(publish.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(publish.attributes).toMatchObject({
      [ATTR.system]: 'kafka',
      [ATTR.destination]: t,
      [ATTR.key]: 'exchange/traced',
      [ATTR.messageId]: message.eventId,
    });

    expect(processSpan.kind).toBe(SpanKind.CONSUMER);
    expect(processSpan.spanContext().traceId).toBe(traceId);
    expect(processSpan.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
    expect(processSpan.attributes).toMatchObject({
      [ATTR.system]: 'kafka',
      [ATTR.destination]: t,
      [ATTR.partition]: '0',
      [ATTR.offset]: 0,
      [ATTR.key]: 'exchange/traced',
      [ATTR.messageId]: message.eventId,
      [ATTR.outcome]: 'handled',
    });
    expect(processSpan.attributes[ATTR.consumerGroup]).toMatch(/^mw-int-group-/);
    expect(processSpan.status.code).not.toBe(SpanStatusCode.ERROR);

    expect(inHandler).toEqual([{ traceId, spanId: processSpan.spanContext().spanId }]);
    expect(work.spanContext().traceId).toBe(traceId);
    expect(work.parentSpanContext?.spanId).toBe(processSpan.spanContext().spanId);
  });

  it('a dead-lettered message: consumer span in error, DLQ record keeps the original trace headers', async () => {
    const t = await topicAndLoop(async () => {
      throw new TypeError('bug in the handler');
    });
    const root = trace.getTracer('test').startSpan('test root (dlq)');
    await context.with(trace.setSpan(context.active(), root), () => producer.send(t, [{ key: 'exchange/x', message: csChange('exchange/x', 1) }]));
    root.end();

    await waitFor('consumer span finished', () => named(`${t} process`).length === 1);
    const [processSpan] = named(`${t} process`) as [ReadableSpan];
    const [publish] = named(`${t} publish`) as [ReadableSpan];
    expect(processSpan.status.code).toBe(SpanStatusCode.ERROR);
    expect(processSpan.status.message).toMatch(/^dead-lettered: bug in the handler/);
    expect(processSpan.attributes[ATTR.outcome]).toBe('dead-lettered');
    expect(processSpan.events.some((e) => e.name === 'exception')).toBe(true);
    // the DLQ write is a child of the consumer span
    const [dlqPublish] = named(`${deadLetterTopic(t)} publish`) as [ReadableSpan];
    expect(dlqPublish.parentSpanContext?.spanId).toBe(processSpan.spanContext().spanId);

    const [dead] = await readRaw(kafka, deadLetterTopic(t), 1);
    expect(dead!.headers['traceparent']!.toString()).toBe(`00-${root.spanContext().traceId}-${publish.spanContext().spanId}-01`);
  });

  it('the trace survives the outbox: enqueue in a traced transaction, relay publishes later, the consumer joins that trace', async () => {
    const seen: string[] = [];
    const t = await topicAndLoop(async () => {
      seen.push(trace.getActiveSpan()!.spanContext().traceId);
    });
    const root = trace.getTracer('test').startSpan('request that writes state and events');
    await context.with(trace.setSpan(context.active(), root), async () => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await enqueueOutbox((sql, params) => client.query(sql, params), schema, [{ topic: t, key: 'exchange/outboxed', message: csChange('exchange/outboxed', 1) }]);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    });
    root.end();

    const relay = new OutboxRelay({ pool, schema, producer, logger });
    expect(await relay.drainOnce()).toBe(1);
    await waitFor('consumed', () => seen.length === 1);
    const traceId = root.spanContext().traceId;
    expect(seen).toEqual([traceId]);
    const [publish] = named(`${t} publish`) as [ReadableSpan];
    const [processSpan] = named(`${t} process`) as [ReadableSpan];
    expect(publish.spanContext().traceId).toBe(traceId);
    expect(publish.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(processSpan.spanContext().traceId).toBe(traceId);
  });
});

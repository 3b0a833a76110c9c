import { encodeMessage, type Message } from '@metaweave/contracts';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { Partitioners, type IHeaders, type Kafka, type Producer, type RecordMetadata } from 'kafkajs';
import { MessagingStateError } from './errors';
import { headersToStrings } from './headers';
import { errorFields, silentLogger, type Logger } from './logger';
import { ATTR, tracer } from './tracing';

export interface ProducerItem {
  /** Partition key: the identity of the object the message is about (order is kept per key). */
  readonly key: string;
  readonly message: Message;
  /** Extra headers; the W3C trace context headers are added by `send`. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** An already-encoded record, sent byte for byte (dead letters, the outbox relay, tests). */
export interface RawItem {
  readonly key: string | Buffer | null;
  readonly value: Buffer | string | null;
  readonly headers?: IHeaders;
}

export interface RawRecord extends RawItem {
  readonly topic: string;
}

export interface RawSendOptions {
  /**
   * Parent of each record's PRODUCER span: `active` (default) is the caller's current context;
   * `headers` extracts it from the record's own W3C headers (the outbox relay: the trace the
   * enqueueing transaction ran in). Raw headers are never rewritten either way.
   */
  readonly traceParent?: 'active' | 'headers';
}

export interface MessageProducerOptions {
  readonly kafka: Kafka;
  readonly logger?: Logger;
  /** Per-send timeout the broker gets for acks=all, ms. Default 30000. */
  readonly ackTimeoutMs?: number;
}

/**
 * The idempotent producer every service uses: acks=all, idempotence on, one request in flight
 * per broker connection, the Java-compatible murmur2 partitioner. Sends from one process are
 * serialized (one `send` at a time), so two calls made in order are written in that order.
 */
export class MessageProducer {
  private readonly producer: Producer;
  private readonly logger: Logger;
  private readonly ackTimeoutMs: number;
  private connected = false;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(options: MessageProducerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 30000;
    this.producer = options.kafka.producer({
      idempotent: true,
      // kafkajs keeps idempotent sequences per partition in memory; with one in-flight request
      // per connection a retried batch can never overtake the next one.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.tail.catch(() => undefined);
    await this.producer.disconnect();
  }

  isConnected(): boolean {
    return this.connected;
  }

  /**
   * Encodes (and so validates) every message, then writes them to `topic` in one request, each
   * in its own PRODUCER span whose context travels in the message's W3C headers.
   * Resolves once the broker acknowledged all of them (acks=all).
   */
  async send(topic: string, items: readonly ProducerItem[]): Promise<RecordMetadata[]> {
    if (items.length === 0) return [];
    const encoded = items.map((item) => ({ item, value: encodeMessage(item.message) }));
    return this.serialized(async () => {
      const active = context.active();
      const spans: Span[] = [];
      const messages = encoded.map(({ item, value }) => {
        const span = tracer().startSpan(
          `${topic} publish`,
          { kind: SpanKind.PRODUCER, attributes: producerAttributes(topic, item.key, value, item.message.eventId) },
          active,
        );
        spans.push(span);
        const headers: Record<string, string> = { ...(item.headers ?? {}) };
        propagation.inject(trace.setSpan(active, span), headers);
        return { key: item.key, value, headers };
      });
      return this.produce([{ topic, messages }], spans);
    });
  }

  /** Writes already-encoded records to `topic` unchanged (key, value and headers as given). */
  async sendRaw(topic: string, items: readonly RawItem[], options: RawSendOptions = {}): Promise<RecordMetadata[]> {
    return this.sendRawRecords(
      items.map((i) => ({ ...i, topic })),
      options,
    );
  }

  /**
   * Like `sendRaw` for records of several topics, in one request per broker. Records of the same
   * topic and key keep their relative order.
   */
  async sendRawRecords(records: readonly RawRecord[], options: RawSendOptions = {}): Promise<RecordMetadata[]> {
    if (records.length === 0) return [];
    return this.serialized(async () => {
      const active = context.active();
      const spans: Span[] = [];
      const byTopic = new Map<string, { key: string | Buffer | null; value: Buffer | string | null; headers?: IHeaders }[]>();
      for (const r of records) {
        const parent = options.traceParent === 'headers' ? propagation.extract(ROOT_CONTEXT, headersToStrings(r.headers)) : active;
        const key = r.key === null ? null : r.key.toString();
        spans.push(
          tracer().startSpan(`${r.topic} publish`, { kind: SpanKind.PRODUCER, attributes: producerAttributes(r.topic, key, r.value, undefined) }, parent),
        );
        let list = byTopic.get(r.topic);
        if (!list) byTopic.set(r.topic, (list = []));
        list.push({ key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}) });
      }
      return this.produce(
        [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        spans,
      );
    });
  }

  private async produce(
    topicMessages: { topic: string; messages: { key: string | Buffer | null; value: Buffer | string | null; headers?: IHeaders }[] }[],
    spans: Span[],
  ): Promise<RecordMetadata[]> {
    if (!this.connected) {
      const err = new MessagingStateError('MessageProducer: send before connect() (or after disconnect())');
      endSpans(spans, err);
      throw err;
    }
    try {
      const result =
        topicMessages.length === 1
          ? await this.producer.send({ topic: topicMessages[0]!.topic, messages: topicMessages[0]!.messages, acks: -1, timeout: this.ackTimeoutMs })
          : await this.producer.sendBatch({ topicMessages, acks: -1, timeout: this.ackTimeoutMs });
      endSpans(spans);
      return result;
    } catch (err) {
      endSpans(spans, err);
      this.logger.debug({ topics: topicMessages.map((t) => t.topic), ...errorFields(err) }, 'produce failed');
      throw err;
    }
  }

  /** Runs `fn` after every earlier send settled: kafkajs' idempotent producer wants one batch at a time. */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

function producerAttributes(topic: string, key: string | null, value: Buffer | string | null, eventId: string | undefined) {
  return {
    [ATTR.system]: 'kafka',
    [ATTR.destination]: topic,
    [ATTR.operationType]: 'send',
    [ATTR.operationName]: 'publish',
    ...(key !== null ? { [ATTR.key]: key } : {}),
    ...(eventId !== undefined ? { [ATTR.messageId]: eventId } : {}),
    ...(value === null ? { [ATTR.tombstone]: true } : { [ATTR.bodySize]: Buffer.byteLength(value) }),
  };
}

function endSpans(spans: readonly Span[], err?: unknown): void {
  for (const span of spans) {
    if (err !== undefined) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    }
    span.end();
  }
}

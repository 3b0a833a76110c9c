import { deadLetterTopic as defaultDeadLetterTopic, decodeMessage, type Message, type MessageType } from '@metaweave/contracts';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { Consumer, ConsumerCrashEvent, ConsumerGroupJoinEvent, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { backoffDelay, settlesWithin, sleep, type BackoffOptions } from './backoff';
import { MessagingConfigError, MessagingStateError, StopTimeoutError } from './errors';
import { messagingMetrics, recordConsumerLag } from './metrics';
import { deadLetterHeaders, errorMessage, errorName, headersToStrings, redactInputEcho } from './headers';
import { errorFields, type Logger } from './logger';
import { MessageProducer } from './producer';
import { isRetriable } from './retriable';
import { ATTR, tracer } from './tracing';

/** Where a message came from, handed to the handler next to the decoded message. */
export interface ConsumeContext {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  /** Kafka headers as text (trace context included). */
  readonly headers: Readonly<Record<string, string>>;
  /** 1 on the first delivery to the handler, 2 on the first retry, ... */
  readonly attempt: number;
}

export type MessageHandler = (message: Message, ctx: ConsumeContext) => Promise<void>;

/** One decoded message of a batch handed to a BatchHandler. */
export interface BatchItem {
  readonly message: Message;
  readonly ctx: ConsumeContext;
}

/**
 * Handles the messages of one fetched batch of one partition at once (in offset order). A
 * consumer that keeps its position in its own database stores `lastOffset + 1` with the rows.
 */
export type BatchHandler = (items: readonly BatchItem[], batch: { readonly topic: string; readonly partition: number; readonly lastOffset: string }) => Promise<void>;

export interface RetryPolicy extends BackoffOptions {
  /** Retries after the first failure before the message is dead-lettered. */
  readonly maxRetries: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 5, initialBackoffMs: 200, maxBackoffMs: 10000 };

export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: number[];
}

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  /** The offset of the next message to process (the one after the last one already processed). */
  readonly offset: string;
}

export interface ConsumerLoopOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Message types this consumer accepts; anything else is dead-lettered as a contract violation. */
  readonly expectedTypes?: readonly MessageType[];
  readonly handle: MessageHandler;
  /**
   * Optional batch mode: the decoded messages of a fetched batch (per partition, at most
   * `maxBatchSize`) go to this handler at once; success commits after the last one. A batch with an
   * undecodable message, or whose handler fails non-retriably or beyond `retry.maxRetries`, is
   * handled again one message at a time through `handle` (which isolates and dead-letters the bad
   * message). Each message still gets its own CONSUMER span.
   */
  readonly handleBatch?: BatchHandler;
  /** Largest batch given to `handleBatch`. Default 1000. */
  readonly maxBatchSize?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly logger: Logger;
  /** Where a group without committed offsets starts: the beginning (true) or new messages only. Default false. */
  readonly fromBeginning?: boolean;
  /**
   * For consumers that keep their position in their own database: called on every group join
   * with this member's assignment, returns the offsets to resume from (partitions left out start
   * from the committed offset). Processing of the assigned partitions waits for it.
   */
  readonly onPartitionsAssigned?: (assignment: TopicPartitions[]) => Promise<PartitionOffset[]>;
  /**
   * Called after a message was written to the dead-letter topic, before its offset is committed:
   * a consumer that keeps its position in its own database moves it past the message here.
   */
  readonly onDeadLettered?: (ctx: ConsumeContext) => Promise<void>;
  /** Producer for dead letters. Default: the loop makes, connects and disconnects its own. */
  readonly deadLetterProducer?: MessageProducer;
  /** Dead-letter topic of a topic. Default `deadLetterTopic` of @metaweave/contracts (`<topic>.dlq`). */
  readonly deadLetterTopic?: (topic: string) => string;
  /** Partitions processed in parallel (each still one message at a time, in order). Default 1. */
  readonly partitionsConsumedConcurrently?: number;
  /** Bound of a graceful stop, ms. Default 30000. */
  readonly stopTimeoutMs?: number;
  /** kafkajs group session timeout, ms. Default 30000. */
  readonly sessionTimeoutMs?: number;
  /** kafkajs heartbeat interval, ms. Default 3000. */
  readonly heartbeatIntervalMs?: number;
  /** Longest a fetch waits on the broker for new data, ms (also bounds how long stop() waits for a fetch). Default 1000. */
  readonly maxWaitTimeMs?: number;
  /** Clock for the `mw-dlq-at` header. */
  readonly clock?: () => Date;
}

type LoopState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed';

type Outcome = { readonly kind: 'commit' } | { readonly kind: 'abort'; readonly rethrow?: unknown };

const COMMIT: Outcome = { kind: 'commit' };

/** kafkajs protocol errors that mean this member no longer owns its partitions. */
const LOST_MEMBERSHIP = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

function lostMembership(err: unknown): boolean {
  const type = (err as { type?: unknown } | null)?.type;
  return typeof type === 'string' && LOST_MEMBERSHIP.has(type);
}

/**
 * One message at a time per partition, committed only when done with it. See README.md for
 * the exact semantics; in short:
 *
 * - decode with the contracts (a ContractViolation is dead-lettered at once);
 * - run the handler inside a CONSUMER span that continues the producer's trace;
 * - handler error: non-retriable → dead-letter; retriable → back off (heartbeating) and retry in
 *   place up to `maxRetries`, then dead-letter with "retries exhausted: ...";
 * - commit offset+1 after success or a successful dead-letter write, never earlier, never past
 *   a message that was not finished;
 * - stop(): no new message starts, the in-flight one finishes and is committed; a message waiting
 *   in backoff is abandoned uncommitted (it will be redelivered).
 */
export class ConsumerLoop {
  private readonly retry: RetryPolicy;
  private readonly logger: Logger;
  private readonly dlqTopicOf: (topic: string) => string;
  private readonly clock: () => Date;
  private readonly stopController = new AbortController();
  private state: LoopState = 'idle';
  private consumer: Consumer | null = null;
  private dlqProducer: MessageProducer | null = null;
  private readonly ownsProducer: boolean;
  private stopPromise: Promise<void> | null = null;
  private starting: Promise<void> | null = null;
  /** Set when stop() gave up waiting: whatever finishes afterwards must not be committed. */
  private abandoned = false;
  /** Processing waits for the assignment hook of the current generation. Never rejects. */
  private assignmentGate: Promise<void> = Promise.resolve();
  private currentAssignment: TopicPartitions[] | null = null;

  constructor(private readonly options: ConsumerLoopOptions) {
    if (options.topics.length === 0) throw new MessagingConfigError('ConsumerLoop: topics must not be empty');
    if (!options.groupId) throw new MessagingConfigError('ConsumerLoop: groupId must not be empty');
    this.retry = { ...DEFAULT_RETRY, ...(options.retry ?? {}) };
    if (!Number.isInteger(this.retry.maxRetries) || this.retry.maxRetries < 0) {
      throw new MessagingConfigError('ConsumerLoop: retry.maxRetries must be a non-negative integer');
    }
    if (this.retry.initialBackoffMs < 0 || this.retry.maxBackoffMs < this.retry.initialBackoffMs) {
      throw new MessagingConfigError('ConsumerLoop: retry backoff must satisfy 0 <= initialBackoffMs <= maxBackoffMs');
    }
    this.logger = options.logger;
    this.dlqTopicOf = options.deadLetterTopic ?? defaultDeadLetterTopic;
    this.clock = options.clock ?? (() => new Date());
    this.ownsProducer = options.deadLetterProducer === undefined;
  }

  /** Connects, joins the group and starts processing. Resolves once kafkajs runs the loop. */
  start(): Promise<void> {
    if (this.state !== 'idle') return Promise.reject(new MessagingStateError(`ConsumerLoop(${this.options.groupId}): start() in state ${this.state}`));
    this.state = 'starting';
    this.starting = this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const o = this.options;
    const consumer = o.kafka.consumer({
      groupId: o.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: o.sessionTimeoutMs ?? 30000,
      heartbeatInterval: o.heartbeatIntervalMs ?? 3000,
      maxWaitTimeInMs: o.maxWaitTimeMs ?? 1000,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event: ConsumerGroupJoinEvent) => this.onGroupJoin(event));
    consumer.on(consumer.events.CRASH, (event: ConsumerCrashEvent) => this.onCrash(event));
    try {
      this.dlqProducer = o.deadLetterProducer ?? new MessageProducer({ kafka: o.kafka, logger: this.logger });
      if (this.ownsProducer) await this.dlqProducer.connect();
      await consumer.connect();
      await consumer.subscribe({ topics: [...o.topics], fromBeginning: o.fromBeginning ?? false });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: o.partitionsConsumedConcurrently ?? 1,
        eachBatch: (payload) => this.eachBatch(payload),
      });
    } catch (err) {
      this.state = 'crashed';
      await consumer.disconnect().catch(() => undefined);
      if (this.ownsProducer) await this.dlqProducer?.disconnect().catch(() => undefined);
      throw err;
    }
    if (this.state === 'starting') this.state = 'running';
    this.logger.info({ groupId: o.groupId, topics: o.topics }, 'consumer loop started');
  }

  /**
   * Graceful stop: no new message starts; the one in flight finishes and is committed (a message
   * waiting in backoff or for the dead-letter topic is abandoned uncommitted); the member leaves
   * the group; connections close. Rejects with StopTimeoutError after `stopTimeoutMs`, leaving
   * whatever is still running uncommitted.
   */
  stop(): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    if (this.state === 'idle') {
      this.state = 'stopped';
      return Promise.resolve();
    }
    this.state = this.state === 'crashed' ? 'crashed' : 'stopping';
    this.stopController.abort();
    const timeoutMs = this.options.stopTimeoutMs ?? 30000;
    this.stopPromise = (async () => {
      const done = (async () => {
        // kafkajs' runner ignores stop() until its first join finished, then keeps running on a
        // disconnected client (and restarts itself): never disconnect while run() is in progress.
        await this.starting?.catch(() => undefined);
        await this.consumer?.disconnect();
        if (this.ownsProducer) await this.dlqProducer?.disconnect();
      })();
      let finished: boolean;
      try {
        finished = await settlesWithin(done, timeoutMs);
      } finally {
        if (this.state === 'stopping') this.state = 'stopped';
      }
      if (!finished) {
        this.abandoned = true;
        done.catch((err: unknown) => this.logger.error({ groupId: this.options.groupId, ...errorFields(err) }, 'consumer disconnect failed after stop timeout'));
        throw new StopTimeoutError(`ConsumerLoop(${this.options.groupId})`, timeoutMs);
      }
      this.logger.info({ groupId: this.options.groupId }, 'consumer loop stopped');
    })();
    return this.stopPromise;
  }

  /** True between a successful start() and stop() or a crash kafkajs does not restart from (readiness). */
  isRunning(): boolean {
    return this.state === 'running';
  }

  /** This member's partitions since the last group join, or null before the first join. */
  assignment(): TopicPartitions[] | null {
    return this.currentAssignment;
  }

  private get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  // ------------------------------------------------------------------ kafkajs callbacks

  private onGroupJoin(event: ConsumerGroupJoinEvent): void {
    const assignment = Object.entries(event.payload.memberAssignment).map(([topic, partitions]) => ({ topic, partitions: [...partitions] }));
    this.currentAssignment = assignment;
    this.logger.info({ groupId: this.options.groupId, memberId: event.payload.memberId, assignment }, 'joined consumer group');
    const hook = this.options.onPartitionsAssigned;
    // kafkajs emits synchronously, before it fetches for the new generation: the gate is in place
    // before the first batch of this generation reaches eachBatch.
    if (hook) this.assignmentGate = this.applyAssignmentHook(hook, assignment);
  }

  private async applyAssignmentHook(hook: NonNullable<ConsumerLoopOptions['onPartitionsAssigned']>, assignment: TopicPartitions[]): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        const offsets = await hook(assignment);
        for (const o of offsets) {
          if (!assignment.some((a) => a.topic === o.topic && a.partitions.includes(o.partition))) {
            this.logger.warn({ groupId: this.options.groupId, ...o }, 'onPartitionsAssigned returned an offset for a partition not assigned to this member; ignored');
            continue;
          }
          this.consumer?.seek({ topic: o.topic, partition: o.partition, offset: o.offset });
        }
        this.logger.info({ groupId: this.options.groupId, offsets }, 'resuming from offsets given by onPartitionsAssigned');
        return;
      } catch (err) {
        if (!isRetriable(err)) {
          this.logger.error(
            { groupId: this.options.groupId, ...errorFields(err) },
            'onPartitionsAssigned failed with a non-retriable error; stopping the consumer (position unknown)',
          );
          this.state = 'crashed';
          this.stop().catch(() => undefined);
          return;
        }
        const delayMs = backoffDelay(Math.min(attempt, 30), this.retry);
        this.logger.warn({ groupId: this.options.groupId, attempt, delayMs, ...errorFields(err) }, 'onPartitionsAssigned failed; retrying');
        await sleep(delayMs, this.stopController.signal);
      }
    }
  }

  private onCrash(event: ConsumerCrashEvent): void {
    const { error, restart } = event.payload;
    if (restart) {
      this.logger.warn({ groupId: this.options.groupId, ...errorFields(error) }, 'kafka consumer crashed; kafkajs restarts it');
      return;
    }
    this.logger.error({ groupId: this.options.groupId, ...errorFields(error) }, 'kafka consumer crashed and will not restart');
    if (this.state === 'running' || this.state === 'starting') this.state = 'crashed';
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    await this.waitForAssignmentHook(payload.heartbeat);
    if (this.options.handleBatch) {
      const size = Math.max(1, this.options.maxBatchSize ?? 1000);
      const all = payload.batch.messages;
      for (let i = 0; i < all.length; i += size) {
        if (!(await this.processBatch(payload, all.slice(i, i + size)))) return;
      }
      return;
    }
    await this.eachMessage(payload, payload.batch.messages);
  }

  /** One message at a time; false when the batch must be left (stop, stale, abort). */
  private async eachMessage(payload: EachBatchPayload, messages: readonly KafkaMessage[]): Promise<boolean> {
    const { batch } = payload;
    for (const message of messages) {
      // isStale: a seek (ours from onPartitionsAssigned, or a rebalance) moved this partition.
      if (this.stopping || this.abandoned || !payload.isRunning() || payload.isStale()) return false;
      const outcome = await this.processMessage(batch.topic, batch.partition, message, payload.heartbeat);
      if (outcome.kind === 'abort') {
        if (outcome.rethrow !== undefined) throw outcome.rethrow;
        return false;
      }
      if (this.abandoned) return false;
      payload.resolveOffset(message.offset);
      recordConsumerLag(this.options.groupId, batch.topic, batch.partition, Number(BigInt(batch.highWatermark) - BigInt(message.offset) - 1n));
      await payload.commitOffsetsIfNecessary({
        topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(message.offset) + 1n).toString() }] }],
      });
      // Like kafkajs' eachMessage: a heartbeat between messages (kafkajs sends at most one per
      // heartbeat interval). A rebalance error ends the batch here and kafkajs rejoins the group.
      await payload.heartbeat();
    }
    return true;
  }

  /**
   * Batch mode: decode every message, hand them to `handleBatch` in one call (retriable failures
   * retried in place), commit after the last. Falls back to one message at a time when a message
   * does not decode or the batch handler fails for good. False when the batch must be left.
   */
  private async processBatch(payload: EachBatchPayload, messages: readonly KafkaMessage[]): Promise<boolean> {
    const { batch } = payload;
    const handleBatch = this.options.handleBatch!;
    if (messages.length === 0) return true;
    if (this.stopping || this.abandoned || !payload.isRunning() || payload.isStale()) return false;
    const items: { item: BatchItem; span: Span }[] = [];
    for (const raw of messages) {
      let message: Message;
      try {
        message = decodeMessage(raw.value, this.options.expectedTypes);
      } catch {
        for (const { span } of items) span.end();
        return this.eachMessage(payload, messages);
      }
      const headers = headersToStrings(raw.headers);
      const key = raw.key === null ? null : raw.key.toString('utf8');
      const span = tracer().startSpan(
        `${batch.topic} process`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            [ATTR.system]: 'kafka',
            [ATTR.destination]: batch.topic,
            [ATTR.operationType]: 'process',
            [ATTR.operationName]: 'process',
            [ATTR.partition]: String(batch.partition),
            [ATTR.offset]: Number(raw.offset),
            [ATTR.consumerGroup]: this.options.groupId,
            [ATTR.messageId]: message.eventId,
            [ATTR.batchSize]: messages.length,
            ...(key !== null ? { [ATTR.key]: key } : {}),
          },
        },
        propagation.extract(ROOT_CONTEXT, headers),
      );
      items.push({ item: { message, ctx: { topic: batch.topic, partition: batch.partition, offset: raw.offset, key, headers, attempt: 1 } }, span });
    }
    const lastOffset = messages[messages.length - 1]!.offset;
    const keepAlive = new KeepAlive(payload.heartbeat, this.stopController.signal, this.options.heartbeatIntervalMs ?? 3000, this.logger);
    const end = (outcome: string) => {
      for (const { span } of items) {
        span.setAttribute(ATTR.outcome, outcome);
        span.end();
      }
    };
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const withAttempt = items.map(({ item }) => ({ message: item.message, ctx: { ...item.ctx, attempt } }));
          await handleBatch(withAttempt, { topic: batch.topic, partition: batch.partition, lastOffset });
          break;
        } catch (err) {
          if (keepAlive.lost !== undefined) {
            end('aborted');
            throw keepAlive.lost;
          }
          if (!isRetriable(err) || attempt > this.retry.maxRetries) {
            this.logger.warn(
              { topic: batch.topic, partition: batch.partition, groupId: this.options.groupId, messages: messages.length, ...errorFields(err) },
              'batch handler failed; handling this batch one message at a time',
            );
            end('retried-singly');
            keepAlive.close();
            return this.eachMessage(payload, messages);
          }
          const delayMs = backoffDelay(attempt, this.retry);
          this.logger.warn({ topic: batch.topic, partition: batch.partition, attempt, delayMs, ...errorFields(err) }, 'batch handler failed with a retriable error; retrying in place');
          if (!(await keepAlive.wait(delayMs))) {
            end('aborted');
            if (keepAlive.lost !== undefined) throw keepAlive.lost;
            return false;
          }
        }
      }
      if (keepAlive.lost !== undefined) {
        end('aborted');
        throw keepAlive.lost;
      }
    } finally {
      keepAlive.close();
    }
    end('handled');
    if (this.abandoned) return false;
    payload.resolveOffset(lastOffset);
    await payload.commitOffsetsIfNecessary({
      topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(lastOffset) + 1n).toString() }] }],
    });
    await payload.heartbeat();
    return true;
  }

  /** Waits for the onPartitionsAssigned hook of this generation, heartbeating (it may wait for a database). */
  private async waitForAssignmentHook(heartbeat: () => Promise<void>): Promise<void> {
    const keepAlive = new KeepAlive(heartbeat, this.stopController.signal, this.options.heartbeatIntervalMs ?? 3000, this.logger);
    try {
      await this.assignmentGate;
    } finally {
      keepAlive.close();
    }
    if (keepAlive.lost !== undefined) throw keepAlive.lost;
  }

  // ------------------------------------------------------------------ one message

  private async processMessage(topic: string, partition: number, raw: KafkaMessage, heartbeat: () => Promise<void>): Promise<Outcome> {
    const headers = headersToStrings(raw.headers);
    const key = raw.key === null ? null : raw.key.toString('utf8');
    const parent = propagation.extract(ROOT_CONTEXT, headers);
    const span = tracer().startSpan(
      `${topic} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [ATTR.system]: 'kafka',
          [ATTR.destination]: topic,
          [ATTR.operationType]: 'process',
          [ATTR.operationName]: 'process',
          [ATTR.partition]: String(partition),
          [ATTR.offset]: Number(raw.offset),
          [ATTR.consumerGroup]: this.options.groupId,
          ...(key !== null ? { [ATTR.key]: key } : {}),
          ...(raw.value === null ? { [ATTR.tombstone]: true } : { [ATTR.bodySize]: raw.value.length }),
        },
      },
      parent,
    );
    const keepAlive = new KeepAlive(heartbeat, this.stopController.signal, this.options.heartbeatIntervalMs ?? 3000, this.logger);
    const started = performance.now();
    try {
      return await context.with(trace.setSpan(parent, span), () =>
        this.deliver({ topic, partition, offset: raw.offset, key, headers, attempt: 1 }, raw, span, keepAlive),
      );
    } finally {
      keepAlive.close();
      span.end();
      messagingMetrics().processingSeconds.record((performance.now() - started) / 1000, { topic, group: this.options.groupId });
    }
  }

  private async deliver(base: ConsumeContext, raw: KafkaMessage, span: Span, keepAlive: KeepAlive): Promise<Outcome> {
    let message: Message;
    try {
      message = decodeMessage(raw.value, this.options.expectedTypes);
    } catch (err) {
      // decodeMessage throws ContractViolation only; anything else is just as hopeless to retry.
      const reason = redactInputEcho(errorMessage(err));
      span.recordException({ name: errorName(err), message: reason });
      return this.deadLetter(base, raw, span, keepAlive, { reason, errorName: errorName(err), retriable: false });
    }
    span.setAttribute(ATTR.messageId, message.eventId);

    for (let attempt = 1; ; attempt++) {
      span.setAttribute(ATTR.attempts, attempt);
      try {
        await this.options.handle(message, { ...base, attempt });
        if (keepAlive.lost !== undefined) return this.abort(span, 'membership lost while handling', keepAlive.lost);
        span.setAttribute(ATTR.outcome, 'handled');
        messagingMetrics().processed.add(1, { topic: base.topic, group: this.options.groupId, outcome: 'handled' });
        const age = (Date.now() - Date.parse(message.occurredAt)) / 1000;
        if (Number.isFinite(age)) messagingMetrics().ageSeconds.record(Math.max(0, age), { topic: base.topic, group: this.options.groupId });
        return COMMIT;
      } catch (err) {
        span.recordException(asException(err));
        if (keepAlive.lost !== undefined) return this.abort(span, 'membership lost while handling', keepAlive.lost);
        const retriable = isRetriable(err);
        if (!retriable) {
          return this.deadLetter(base, raw, span, keepAlive, { reason: errorMessage(err), errorName: errorName(err), retriable: false });
        }
        if (attempt > this.retry.maxRetries) {
          return this.deadLetter(base, raw, span, keepAlive, {
            reason: `retries exhausted: ${errorMessage(err)}`,
            errorName: errorName(err),
            retriable: true,
          });
        }
        const delayMs = backoffDelay(attempt, this.retry);
        messagingMetrics().processed.add(1, { topic: base.topic, group: this.options.groupId, outcome: 'retried' });
        this.logger.warn(
          { ...where(base, this.options.groupId), attempt, maxRetries: this.retry.maxRetries, delayMs, error: errorName(err), reason: errorMessage(err) },
          'handler failed with a retriable error; retrying in place',
        );
        if (!(await keepAlive.wait(delayMs))) {
          return this.abort(span, 'stopped or lost membership during backoff', keepAlive.lost);
        }
      }
    }
  }

  private async deadLetter(
    base: ConsumeContext,
    raw: KafkaMessage,
    span: Span,
    keepAlive: KeepAlive,
    failure: { reason: string; errorName: string; retriable: boolean },
  ): Promise<Outcome> {
    const dlqTopic = this.dlqTopicOf(base.topic);
    messagingMetrics().processed.add(1, { topic: base.topic, group: this.options.groupId, outcome: 'dead-lettered' });
    const headers = deadLetterHeaders(raw.headers, {
      ...failure,
      topic: base.topic,
      partition: base.partition,
      offset: base.offset,
      consumerGroup: this.options.groupId,
      at: this.clock(),
    });
    const producer = this.dlqProducer;
    if (!producer) throw new MessagingStateError('ConsumerLoop: no dead-letter producer');
    for (let attempt = 1; ; attempt++) {
      try {
        await producer.sendRaw(dlqTopic, [{ key: raw.key, value: raw.value, headers }]);
        break;
      } catch (err) {
        const delayMs = backoffDelay(Math.min(attempt, 30), this.retry);
        this.logger.error(
          { ...where(base, this.options.groupId), dlqTopic, attempt, delayMs, ...errorFields(err) },
          'could not write to the dead-letter topic (does it exist?); retrying, offset not committed',
        );
        if (!(await keepAlive.wait(delayMs))) return this.abort(span, 'stopped or lost membership while dead-lettering', keepAlive.lost);
      }
    }
    // Never the value: messages may carry secrets.
    this.logger.warn(
      { ...where(base, this.options.groupId), dlqTopic, reason: failure.reason, error: failure.errorName, retriable: failure.retriable },
      'message dead-lettered',
    );
    span.setAttribute(ATTR.outcome, 'dead-lettered');
    span.setStatus({ code: SpanStatusCode.ERROR, message: `dead-lettered: ${failure.reason}`.slice(0, 1000) });
    if (keepAlive.lost !== undefined) return this.abort(span, 'membership lost while dead-lettering', keepAlive.lost);
    if (this.options.onDeadLettered) {
      try {
        await this.options.onDeadLettered(base);
      } catch (err) {
        // Not committed: the message is dead-lettered again on redelivery (at-least-once).
        this.logger.error({ ...where(base, this.options.groupId), ...errorFields(err) }, 'onDeadLettered failed; offset not committed');
        return this.abort(span, 'onDeadLettered failed', undefined);
      }
    }
    return COMMIT;
  }

  private abort(span: Span, why: string, lost: unknown): Outcome {
    span.setAttribute(ATTR.outcome, 'aborted');
    span.addEvent('aborted', { reason: why });
    return lost === undefined ? { kind: 'abort' } : { kind: 'abort', rethrow: lost };
  }
}

function where(ctx: ConsumeContext, groupId: string) {
  return { topic: ctx.topic, partition: ctx.partition, offset: ctx.offset, groupId };
}

function asException(err: unknown): Error | string {
  return err instanceof Error ? err : String(err);
}

/**
 * Keeps the group membership alive while one message is handled, retried or dead-lettered: the
 * kafkajs batch heartbeat is called on a timer (kafkajs itself sends at most one heartbeat per
 * heartbeat interval). A heartbeat answering "rebalance / unknown member" means this member may
 * have lost the partition: `lost` is set and any backoff wait ends.
 */
class KeepAlive {
  lost: unknown = undefined;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onStop = () => this.controller.abort();

  constructor(
    private readonly heartbeat: () => Promise<void>,
    private readonly stopSignal: AbortSignal,
    intervalMs: number,
    private readonly logger: Logger,
  ) {
    stopSignal.addEventListener('abort', this.onStop, { once: true });
    if (stopSignal.aborted) this.controller.abort();
    this.timer = setInterval(() => this.beat(), Math.max(100, Math.floor(intervalMs / 2)));
    this.timer.unref();
  }

  private beat(): void {
    this.heartbeat().catch((err: unknown) => {
      if (lostMembership(err)) {
        if (this.lost === undefined) this.lost = err;
        this.controller.abort();
      } else {
        this.logger.debug(errorFields(err), 'heartbeat failed (will try again)');
      }
    });
  }

  /** Waits `ms` while heartbeating; false when stopped or membership was lost meanwhile. */
  async wait(ms: number): Promise<boolean> {
    const completed = await sleep(ms, this.controller.signal);
    return completed && this.lost === undefined && !this.stopSignal.aborted;
  }

  close(): void {
    clearInterval(this.timer);
    this.stopSignal.removeEventListener('abort', this.onStop);
  }
}

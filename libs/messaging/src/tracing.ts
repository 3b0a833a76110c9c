import { trace, type Tracer } from '@opentelemetry/api';

/** The library's tracer; spans go wherever the application's SDK sends them (nowhere without one). */
export const TRACER_NAME = '@metaweave/messaging';

export function tracer(): Tracer {
  // Looked up per use: the application may register its provider after this module loaded.
  return trace.getTracer(TRACER_NAME);
}

/** OpenTelemetry messaging semantic convention attribute names (semconv 1.27+ spelling). */
export const ATTR = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  partition: 'messaging.destination.partition.id',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  bodySize: 'messaging.message.body.size',
  key: 'messaging.kafka.message.key',
  offset: 'messaging.kafka.offset',
  tombstone: 'messaging.kafka.message.tombstone',
  consumerGroup: 'messaging.consumer.group.name',
  /** Ours: how many times the handler ran for this delivery. */
  attempts: 'metaweave.messaging.attempts',
  /** Ours: messages handled together with this one (batch mode). */
  batchSize: 'metaweave.messaging.batch.size',
  /** Ours: what happened to the message (`handled`, `dead-lettered`, `aborted`). */
  outcome: 'metaweave.messaging.outcome',
} as const;

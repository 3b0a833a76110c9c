import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * The one envelope every event and command travels in (style.md §3).
 * `eventId` is the idempotency key; trace context travels in Kafka headers, not here.
 */
export interface Envelope<TType extends string = string, TData = unknown> {
  readonly eventId: string;
  readonly type: TType;
  readonly schemaVersion: number;
  readonly occurredAt: string;
  readonly source: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly data: TData;
}

export const envelopeHeaderSchema = z.object({
  eventId: z.string().uuid(),
  type: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  occurredAt: z.string().datetime({ offset: true }),
  source: z.string().min(1),
  correlationId: z.string().min(1),
  causationId: z.string().min(1).nullable(),
  data: z.unknown(),
});

export interface EnvelopeFactoryOptions {
  /** The service or connector that emits. */
  readonly source: string;
  readonly clock?: () => Date;
  readonly newId?: () => string;
}

export interface NewEnvelope<TType extends string, TData> {
  readonly type: TType;
  readonly schemaVersion: number;
  readonly data: TData;
  /** The envelope this one is a consequence of; its correlation id is inherited. */
  readonly causedBy?: Pick<Envelope, 'eventId' | 'correlationId'>;
}

/** Builds envelopes with an injected clock and id generator (pure core, thin shell). */
export class EnvelopeFactory {
  private readonly clock: () => Date;
  private readonly newId: () => string;

  constructor(private readonly options: EnvelopeFactoryOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.newId = options.newId ?? randomUUID;
  }

  create<TType extends string, TData>(input: NewEnvelope<TType, TData>): Envelope<TType, TData> {
    const eventId = this.newId();
    return {
      eventId,
      type: input.type,
      schemaVersion: input.schemaVersion,
      occurredAt: this.clock().toISOString(),
      source: this.options.source,
      correlationId: input.causedBy?.correlationId ?? eventId,
      causationId: input.causedBy?.eventId ?? null,
      data: input.data,
    };
  }
}

import { metrics, type Attributes, type Counter, type Histogram } from '@opentelemetry/api';

/**
 * The messaging layer's Prometheus-visible metrics, through the OpenTelemetry API only (the SDK and
 * the scrape endpoint are started by `@metaweave/telemetry` when MW_METRICS_PORT is set; without it
 * these are no-ops). Names follow Prometheus conventions once exported (`_total`, `_seconds`).
 */
interface MessagingInstruments {
  readonly processed: Counter;
  readonly processingSeconds: Histogram;
  /** Age of a message when its consumer finished with it: the propagation latency of that hop. */
  readonly ageSeconds: Histogram;
  readonly outboxPublished: Counter;
}

/** Latest known lag per consumer group, topic and partition (high watermark − next offset). */
const lags = new Map<string, { attributes: Attributes; lag: number }>();

export function recordConsumerLag(group: string, topic: string, partition: number, lag: number): void {
  lags.set(`${group}\u0000${topic}\u0000${partition}`, { attributes: { group, topic, partition: String(partition) }, lag: Math.max(0, lag) });
}

let instruments: MessagingInstruments | undefined;
let meterProviderSeen: unknown;

export function messagingMetrics(): MessagingInstruments {
  // Re-create when a meter provider was registered after first use (the SDK starts before services
  // build their modules, but tests may start it later).
  const provider = metrics.getMeterProvider();
  if (!instruments || provider !== meterProviderSeen) {
    meterProviderSeen = provider;
    const meter = metrics.getMeter('@metaweave/messaging');
    instruments = {
      processed: meter.createCounter('mw_messages_processed', {
        description: 'Kafka messages a consumer finished with, by outcome (handled, dead-lettered) and retries',
      }),
      processingSeconds: meter.createHistogram('mw_message_processing_duration_seconds', {
        description: 'Time from receiving a message to committing it, including retries',
        advice: { explicitBucketBoundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] },
      }),
      ageSeconds: meter.createHistogram('mw_message_age_seconds', {
        description: 'Time from a message being created (envelope occurredAt) to its consumer committing it',
        advice: { explicitBucketBoundaries: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] },
      }),
      outboxPublished: meter.createCounter('mw_outbox_published', { description: 'Outbox rows published to Kafka' }),
    };
    meter
      .createObservableGauge('mw_consumer_lag', { description: 'Messages behind the partition end, per consumer group, topic and partition' })
      .addCallback((result) => {
        for (const { attributes, lag } of lags.values()) result.observe(lag, attributes);
      });
  }
  return instruments;
}

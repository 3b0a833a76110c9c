import { metrics, type Counter, type Histogram } from '@opentelemetry/api';

/**
 * The messaging layer's Prometheus-visible metrics, through the OpenTelemetry API only (the SDK and
 * the scrape endpoint are started by `@metaweave/telemetry` when MW_METRICS_PORT is set; without it
 * these are no-ops). Names follow Prometheus conventions once exported (`_total`, `_seconds`).
 */
interface MessagingInstruments {
  readonly processed: Counter;
  readonly processingSeconds: Histogram;
  readonly outboxPublished: Counter;
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
      outboxPublished: meter.createCounter('mw_outbox_published', { description: 'Outbox rows published to Kafka' }),
    };
  }
  return instruments;
}

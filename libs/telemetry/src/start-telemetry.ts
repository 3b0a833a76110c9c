import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { FileSpanExporter } from './file-span-exporter';

export interface TelemetryOptions {
  readonly serviceName: string;
  readonly serviceVersion?: string;
  /** `otlp`: OTLP/HTTP to `otlpEndpoint`; `file`: JSON lines to `filePath`; `none`: tracing off. */
  readonly exporter: 'otlp' | 'file' | 'none';
  readonly otlpEndpoint?: string;
  readonly filePath?: string;
  /** Ratio of new traces sampled (children follow their parent's decision). */
  readonly sampleRatio?: number;
  /**
   * Port of the Prometheus scrape endpoint (`GET /metrics`), served beside the service's own HTTP
   * port so scraping never competes with the API; 0 or absent: metrics off.
   */
  readonly metricsPort?: number;
  readonly metricsHost?: string;
  /** Extra exporter, e.g. an InMemorySpanExporter in tests. */
  readonly additionalExporter?: SpanExporter;
}

export interface Telemetry {
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK for one application process. Call it before anything imports
 * `pg` or `http`, so the instrumentations can patch them. Libraries never call this: they use
 * `@opentelemetry/api` only. Kafka spans and W3C context in Kafka headers are made by
 * `@metaweave/messaging` itself (see docs/adr/0003-tracing.md), so no kafkajs instrumentation here.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const processors: SpanProcessor[] = [];
  if (options.exporter === 'otlp') {
    processors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter(options.otlpEndpoint ? { url: options.otlpEndpoint } : {}) }));
  } else if (options.exporter === 'file') {
    if (!options.filePath) throw new Error('telemetry exporter "file" needs a filePath');
    processors.push(new BatchSpanProcessor({ exporter: new FileSpanExporter(options.filePath, options.serviceName), scheduledDelayMillis: 200 }));
  }
  if (options.additionalExporter) processors.push(new SimpleSpanProcessor({ exporter: options.additionalExporter }));

  const ratio = options.sampleRatio ?? 1;
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: options.serviceName,
    ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
  });
  let meterProvider: MeterProvider | undefined;
  if (options.metricsPort) {
    const exporter = new PrometheusExporter({ port: options.metricsPort, host: options.metricsHost ?? '0.0.0.0', endpoint: '/metrics' });
    meterProvider = new MeterProvider({ resource, readers: [exporter] });
    metrics.setGlobalMeterProvider(meterProvider);
  }
  const provider = new TracerProvider({
    resource,
    sampler: processors.length === 0 ? new AlwaysOffSampler() : new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors: processors,
  });

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => (req.url ?? '').startsWith('/health') }),
      // enhancedDatabaseReporting stays off: bound values (which may hold directory data) never reach spans.
      // requireParentSpan: a query outside any operation (pollers, health checks) is not a trace of its own.
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
    ],
  });

  return {
    async shutdown() {
      unregister();
      await provider.forceFlush();
      await provider.shutdown();
      await meterProvider?.shutdown();
      metrics.disable();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

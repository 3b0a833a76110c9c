import { metrics } from '@opentelemetry/api';

/**
 * Run metrics through the OpenTelemetry API (exported as Prometheus by `@metaweave/telemetry` when
 * MW_METRICS_PORT is set): runs by step and final status, and the MIIS counters of each run summed
 * per connector, partition and step (`mw_run_objects_total{counter="stageAdd"}`, …).
 */
export function recordRunMetrics(connector: string, partition: string, step: string, status: string, counters: Readonly<Record<string, number>>): void {
  const meter = metrics.getMeter('@metaweave/connector-runtime');
  meter.createCounter('mw_runs', { description: 'Finished run steps by connector, partition, step and status' }).add(1, { connector, partition, step, status });
  const objects = meter.createCounter('mw_run_objects', { description: 'MIIS run counters (stage-add, stage-update, export-add, …) summed over finished runs' });
  for (const [counter, value] of Object.entries(counters)) if (value > 0) objects.add(value, { connector, partition, step, counter });
}

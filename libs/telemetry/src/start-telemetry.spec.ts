import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { startTelemetry, type SpanRecord } from './index';

describe('startTelemetry with the file exporter', () => {
  it('writes spans with parent links and propagates W3C context', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mw-tel-')), 'spans.jsonl');
    const telemetry = startTelemetry({ serviceName: 'unit', exporter: 'file', filePath: file });
    const tracer = trace.getTracer('test');
    const carrier: Record<string, string> = {};
    tracer.startActiveSpan('parent', (parent) => {
      propagation.inject(context.active(), carrier);
      tracer.startSpan('child').end();
      parent.end();
    });
    const remote = propagation.extract(context.active(), carrier);
    tracer.startSpan('remote-child', {}, remote).end();
    await telemetry.shutdown();

    const spans = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as SpanRecord);
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    expect(carrier['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(byName['child']!.parentSpanId).toBe(byName['parent']!.spanId);
    expect(byName['remote-child']!.traceId).toBe(byName['parent']!.traceId);
    expect(byName['remote-child']!.parentSpanId).toBe(byName['parent']!.spanId);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['unit']));
  });

  it('refuses the file exporter without a path', () => {
    expect(() => startTelemetry({ serviceName: 'x', exporter: 'file' })).toThrow(/needs a filePath/);
  });
});

describe('startTelemetry with a metrics port', () => {
  it('serves instruments made through the API in Prometheus text format', async () => {
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const { metrics } = await import('@opentelemetry/api');
    const telemetry = startTelemetry({ serviceName: 'unit', exporter: 'none', metricsPort: port, metricsHost: '127.0.0.1' });
    try {
      metrics.getMeter('test').createCounter('mw_test_events', { description: 'test' }).add(3, { kind: 'x' });
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/^mw_test_events_total\{kind="x"[^}]*\} 3$/m);
      expect(text).toContain('# HELP mw_test_events_total test');
    } finally {
      await telemetry.shutdown();
    }
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});

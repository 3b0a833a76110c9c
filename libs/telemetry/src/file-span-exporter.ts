import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { ExportResultCode, hrTimeToMilliseconds, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

/** One exported span as a line of JSON: what the file exporter writes and the tests read back. */
export interface SpanRecord {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | null;
  readonly name: string;
  readonly kind: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly status: number;
  readonly attributes: Record<string, unknown>;
}

/**
 * Writes spans as JSON lines to a file. For one machine without a collector (deploy/local and the
 * end-to-end tests read these files); production uses the OTLP exporter.
 */
export class FileSpanExporter implements SpanExporter {
  private stopped = false;

  constructor(
    private readonly path: string,
    private readonly service: string,
  ) {
    mkdirSync(dirname(path), { recursive: true });
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.stopped) return resultCallback({ code: ExportResultCode.FAILED, error: new Error('exporter shut down') });
    try {
      const lines = spans.map((s) => JSON.stringify(toRecord(s, this.service))).join('\n');
      if (lines) appendFileSync(this.path, lines + '\n');
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
  }

  async forceFlush(): Promise<void> {}
}

function toRecord(span: ReadableSpan, service: string): SpanRecord {
  const ctx = span.spanContext();
  return {
    service,
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    name: span.name,
    kind: SpanKind[span.kind],
    startMs: hrTimeToMilliseconds(span.startTime),
    durationMs: hrTimeToMilliseconds(span.duration),
    status: span.status.code,
    attributes: { ...span.attributes },
  };
}

import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** One span as an OTLP/HTTP JSON export carried it, flattened with its service name. */
export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | null;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Record<string, unknown>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpAttribute[] }[] }[];
  }[];
}

function plain(v: OtlpValue): unknown {
  return v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue ?? null;
}

/**
 * A real OTLP/HTTP endpoint for tests (what an OpenTelemetry Collector's `otlphttp` receiver is to
 * the services): the services export to it with MW_OTEL_EXPORTER=otlp exactly as in production,
 * and the test reads what arrived. JSON encoding (the `exporter-trace-otlp-http` default).
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Requests that were not OTLP JSON, kept so a test can show them. */
  readonly rejected: string[] = [];
  private server?: Server;
  private port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          let body = Buffer.concat(chunks);
          if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
          if (req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
            throw new Error(`${req.method} ${req.url} ${req.headers['content-type']}`);
          }
          this.ingest(JSON.parse(body.toString('utf8')) as OtlpExport);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch (error) {
          this.rejected.push((error as Error).message);
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** The traces URL to give the services (MW_OTEL_ENDPOINT). */
  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/traces`;
  }

  private ingest(payload: OtlpExport): void {
    for (const rs of payload.resourceSpans ?? []) {
      const service = String(plain(rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value ?? {}) ?? 'unknown');
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            service,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ? s.parentSpanId : null,
            name: s.name,
            kind: s.kind,
            attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, plain(a.value)])),
          });
        }
      }
    }
  }

  /** The services that contributed spans to one trace. */
  servicesOf(traceId: string): Set<string> {
    return new Set(this.spans.filter((s) => s.traceId === traceId).map((s) => s.service));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

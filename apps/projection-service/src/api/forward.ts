import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type ProjectionConfig } from '../config';
import { problem } from './problem';

export interface Forwarded {
  readonly status: number;
  readonly body: unknown;
}

/**
 * Commands the query API does not execute itself go to the service that owns them: run profiles
 * to the connector's API, preview and approvals to the join engine. The caller's bearer token goes
 * along (each service checks its own roles); the owner's answer comes back with its status.
 */
@Injectable()
export class Forwarder {
  constructor(@Inject(CONFIG) private readonly config: ProjectionConfig) {}

  connectorUrl(connector: string): string {
    const url = this.config.connectorUrls[connector];
    if (!url) {
      const known = Object.keys(this.config.connectorUrls);
      throw problem(404, `no connector '${connector}' is configured here (MW_CONNECTOR_URLS knows ${known.length ? known.join(', ') : 'none'})`);
    }
    return url;
  }

  joinEngineUrl(): string {
    if (!this.config.joinEngineUrl) throw problem(503, 'the join engine is not configured here (set MW_JOIN_ENGINE_URL)');
    return this.config.joinEngineUrl;
  }

  async send(owner: string, method: 'GET' | 'POST', url: string, authorization: string | undefined, body?: unknown): Promise<Forwarded> {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(authorization ? { authorization } : {}) },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      throw problem(502, `${owner} at ${new URL(url).origin} is unreachable: ${(error as Error).message}`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: passed on as text */
    }
    if (res.status >= 500) throw problem(502, `${owner} answered ${res.status}: ${describe(parsed)}`);
    return { status: res.status, body: parsed };
  }
}

function describe(body: unknown): string {
  if (body && typeof body === 'object') {
    const o = body as Record<string, unknown>;
    return String(o['detail'] ?? o['message'] ?? JSON.stringify(body)).slice(0, 500);
  }
  return String(body).slice(0, 500);
}

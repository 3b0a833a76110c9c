import { cliToken } from './auth';
import { PORTS } from './services';

/** An API answered with an error status; `status` lets commands choose their exit code. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * Small JSON-over-HTTP helper for the services' APIs: sends a bearer token (cliToken), errors
 * carry the service's own reason (problem+json `detail`).
 */
export async function api<T>(method: 'GET' | 'POST', url: string, body?: unknown, options: { timeoutMs?: number } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${await cliToken()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
  } catch (error) {
    throw new Error(`cannot reach ${url}: ${(error as Error).message} (is the stack up? npx mw stack status)`);
  }
  const text = await res.text();
  let json: { detail?: unknown; message?: unknown } | undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new ApiError(`${method} ${url} → ${res.status}: ${String(json?.detail ?? json?.message ?? text)}`, res.status);
  return json as T;
}

export const urls = {
  exchange: `http://127.0.0.1:${PORTS['exchange-connector']}`,
  nt4: `http://127.0.0.1:${PORTS['nt4-connector']}`,
  join: `http://127.0.0.1:${PORTS['join-engine']}`,
  password: `http://127.0.0.1:${PORTS['password-service']}`,
  projection: `http://127.0.0.1:${PORTS['projection-service']}`,
};

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

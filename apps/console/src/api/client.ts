/**
 * The one place that knows the APIs' URLs and shapes. The console's server (or Vite in development)
 * serves the app and forwards two prefixes, so the browser talks to one origin only:
 *   `/projection/api/v1/...` → the projection service's query API
 *   `/password/api/v1/...`   → the password service's API
 * Every call carries the session's bearer token in the Authorization header — never in a URL.
 * Errors come back as `ApiError` whose message is the server's problem+json `detail`, or a sentence
 * saying what to do when there is none.
 */
import type {
  ChangePassword,
  ConnectorObjectLink,
  ExportList,
  HeldDeleteList,
  MvObjectDetail,
  PasswordOperation,
  PreviewResult,
  RunDetail,
  RunList,
  RunQuery,
  SearchQuery,
  SearchResult,
  SetPassword,
  StartRun,
  StartedRun,
} from './types';

export interface ApiBases {
  /** Prefix of the query API (projection service). */
  readonly projection: string;
  /** Prefix of the password API (password service). */
  readonly password: string;
}

export const DEFAULT_BASES: ApiBases = { projection: '/projection', password: '/password' };

/** A refused or failed call, with the server's reason (RFC 9457 problem details) when it gave one. */
export class ApiError extends Error {
  constructor(
    /** HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    message: string,
    /** Per-field reasons of a 400, when the server listed them. */
    readonly errors: readonly string[] = [],
    readonly title: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The token is missing, expired or not accepted: the user must log in again. */
  get unauthenticated(): boolean {
    return this.status === 401;
  }
}

interface ProblemBody {
  readonly title?: unknown;
  readonly detail?: unknown;
  readonly message?: unknown;
  readonly errors?: unknown;
}

/** Turns a non-2xx answer into an ApiError with a message a person can act on. */
export async function errorFromResponse(res: Response, what: string): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let body: ProblemBody | null = null;
  try {
    const parsed: unknown = text ? JSON.parse(text) : null;
    if (parsed && typeof parsed === 'object') body = parsed as ProblemBody;
  } catch {
    /* not JSON: a proxy's or a server's plain error page */
  }
  const detail = typeof body?.detail === 'string' ? body.detail : typeof body?.message === 'string' ? body.message : Array.isArray(body?.message) ? body.message.join('; ') : null;
  const errors = Array.isArray(body?.errors) ? body.errors.filter((e): e is string => typeof e === 'string') : [];
  const title = typeof body?.title === 'string' ? body.title : null;
  return new ApiError(res.status, describe(res.status, detail, what), errors, title);
}

function describe(status: number, detail: string | null, what: string): string {
  switch (status) {
    case 401:
      return `Your session was refused (${detail ?? 'no valid bearer token'}). Log in again with a fresh token, e.g. from \`mw token\`.`;
    case 403:
      return `Your token does not allow ${what}: ${detail ?? 'a role is missing'}. Ask an administrator for the role.`;
    case 404:
      // A framework's "Cannot GET /path": the service behind the API has no such endpoint.
      if (detail && /^Cannot (GET|POST|PUT|DELETE) /.test(detail)) return `${what}: the service behind the API does not offer this yet (${detail}). It may be an older version than this console expects.`;
      return detail ?? `${what}: not found.`;
    case 502:
    case 503:
    case 504:
      return `${detail ?? `the service behind ${what} is not answering (HTTP ${status})`}. Check that the service is running, then retry.`;
    default:
      if (detail) return detail;
      if (status >= 500) return `${what} failed inside the service (HTTP ${status}); see that service's log, then retry.`;
      return `${what} was refused (HTTP ${status}).`;
  }
}

export interface ApiClientOptions {
  readonly token: string;
  readonly bases?: ApiBases;
  /** Resolves relative URLs (the page's origin in a browser; tests give a server's). */
  readonly origin?: string;
  readonly fetch?: typeof fetch;
}

/** Typed calls to the query API and the password API with one bearer token. */
export class ApiClient {
  private readonly bases: ApiBases;
  private readonly fetcher: typeof fetch;

  constructor(private readonly options: ApiClientOptions) {
    this.bases = options.bases ?? DEFAULT_BASES;
    this.fetcher = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  // ---- metaverse ----------------------------------------------------------------------------

  searchObjects(q: SearchQuery, signal?: AbortSignal): Promise<SearchResult> {
    const p = new URLSearchParams();
    if (q.type) p.set('type', q.type);
    for (const [name, value] of q.filters) p.append('attr', `${name}=${value}`);
    if (q.limit !== undefined) p.set('limit', String(q.limit));
    if (q.offset !== undefined) p.set('offset', String(q.offset));
    return this.get(`${this.bases.projection}/api/v1/objects?${p}`, 'metaverse search', signal);
  }

  getObject(id: string, signal?: AbortSignal): Promise<MvObjectDetail> {
    return this.get(`${this.bases.projection}/api/v1/objects/${enc(id)}`, `reading metaverse object ${id}`, signal);
  }

  /** The metaverse object a connector space object is joined to, and the link's state. */
  getConnectorObject(connector: string, anchor: string, signal?: AbortSignal): Promise<ConnectorObjectLink> {
    return this.get(`${this.bases.projection}/api/v1/connectors/${enc(connector)}/objects/${enc(anchor)}`, `reading ${connector} object ${anchor}`, signal);
  }

  preview(connector: string, anchor: string, signal?: AbortSignal): Promise<PreviewResult> {
    return this.get(`${this.bases.projection}/api/v1/preview/${enc(connector)}/${enc(anchor)}`, `previewing ${connector} object ${anchor}`, signal);
  }

  // ---- operations ---------------------------------------------------------------------------

  listRuns(q: RunQuery = {}, signal?: AbortSignal): Promise<RunList> {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
    return this.get(`${this.bases.projection}/api/v1/runs?${p}`, 'reading the run history', signal);
  }

  getRun(runId: string, signal?: AbortSignal): Promise<RunDetail> {
    return this.get(`${this.bases.projection}/api/v1/runs/${enc(runId)}`, `reading run ${runId}`, signal);
  }

  startRun(body: StartRun): Promise<StartedRun> {
    return this.send('POST', `${this.bases.projection}/api/v1/runs`, body, `starting ${body.step} on ${body.connector}/${body.partition}`);
  }

  heldDeletes(signal?: AbortSignal): Promise<HeldDeleteList> {
    return this.get(`${this.bases.projection}/api/v1/held-deletes`, 'reading held deletes', signal);
  }

  approveHeldDelete(id: string): Promise<unknown> {
    return this.send('POST', `${this.bases.projection}/api/v1/held-deletes/${enc(id)}/approve`, {}, 'approving held deletes');
  }

  exports(q: { connector?: string; status?: string; limit?: number } = {}, signal?: AbortSignal): Promise<ExportList> {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
    return this.get(`${this.bases.projection}/api/v1/exports?${p}`, 'reading export outcomes', signal);
  }

  // ---- passwords ----------------------------------------------------------------------------

  /** Admin reset of a person's NT4 accounts. The password goes in the body only. */
  setPassword(mvObjectId: string, body: SetPassword): Promise<PasswordOperation> {
    return this.send('POST', `${this.bases.password}/api/v1/persons/${enc(mvObjectId)}/password`, body, 'setting a password');
  }

  changePassword(connector: string, anchor: string, body: ChangePassword): Promise<PasswordOperation> {
    return this.send('POST', `${this.bases.password}/api/v1/accounts/${enc(connector)}/${enc(anchor)}/password/change`, body, 'changing a password');
  }

  passwordOperation(id: string, signal?: AbortSignal): Promise<PasswordOperation> {
    return this.get(`${this.bases.password}/api/v1/operations/${enc(id)}`, `reading password operation ${id}`, signal);
  }

  // ---- plumbing -----------------------------------------------------------------------------

  private get<T>(path: string, what: string, signal?: AbortSignal): Promise<T> {
    return this.call<T>('GET', path, undefined, what, signal);
  }

  private send<T>(method: 'POST', path: string, body: unknown, what: string): Promise<T> {
    return this.call<T>(method, path, body, what);
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body: unknown, what: string, signal?: AbortSignal): Promise<T> {
    const url = this.options.origin ? new URL(path, this.options.origin).toString() : path;
    let res: Response;
    try {
      res = await this.fetcher(url, {
        method,
        headers: {
          accept: 'application/json, application/problem+json',
          authorization: `Bearer ${this.options.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? null : JSON.stringify(body),
        // Nothing of a call is cached or sent on as a referrer.
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
        credentials: 'omit',
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ApiError(0, `Cannot reach the server for ${what}: ${(error as Error).message}. Check your network and that the console's server is running, then retry.`);
    }
    if (!res.ok) throw await errorFromResponse(res, what);
    const text = await res.text();
    if (!text) return null as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.status, `The server answered ${what} with something that is not JSON; is the console's server pointing at the right service?`);
    }
  }
}

const enc = encodeURIComponent;

import { Catch, HttpException, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { LOGGER, type Logger } from '@metaweave/platform';

/** The part of express's response this filter uses. */
interface HttpResponse {
  status(code: number): this;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

/** RFC 9457 problem details. `type` is a stable URN a client can switch on. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: readonly string[];
}

/** An API error with its problem details; the detail must be safe to show (no secret). */
export class ApiProblem extends HttpException {
  constructor(readonly problem: Problem) {
    super(problem, problem.status);
  }
}

export const problem = (status: number, slug: string, title: string, detail: string, errors?: readonly string[]): ApiProblem =>
  new ApiProblem({ type: `urn:metaweave:problem:${slug}`, title, status, detail, ...(errors ? { errors } : {}) });

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
};

/**
 * Every error leaves as `application/problem+json`. Only our own ApiProblem and the auth guard's
 * refusals carry their own detail; any other error gets a fixed text for its status, because the
 * framework's messages may quote the request (a JSON syntax error quotes the body, which holds the
 * password). Unexpected errors are logged by name and stack frames, not by message.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<HttpResponse>();
    const url = host.switchToHttp().getRequest<{ url?: string }>().url ?? '';
    if (url.startsWith('/health') && exception instanceof HttpException) {
      // Health answers keep their own shape (probes read the checks that failed).
      res.status(exception.getStatus()).setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify(exception.getResponse()));
      return;
    }
    const body = this.toProblem(exception);
    res.status(body.status).setHeader('content-type', 'application/problem+json; charset=utf-8');
    res.end(JSON.stringify(body));
  }

  private toProblem(exception: unknown): Problem {
    if (exception instanceof ApiProblem) return exception.problem;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse() as { title?: unknown; detail?: unknown } | string;
      // The auth guard answers { title, detail } with a detail that never quotes the token.
      if ((status === 401 || status === 403) && typeof response === 'object' && typeof response.detail === 'string') {
        return { type: `urn:metaweave:problem:${status === 401 ? 'unauthenticated' : 'forbidden'}`, title: TITLES[status]!, status, detail: response.detail };
      }
      if (status === 400) return { type: 'urn:metaweave:problem:malformed-request', title: TITLES[400]!, status, detail: 'the request body is not valid JSON (send Content-Type: application/json)' };
      if (status === 404) return { type: 'urn:metaweave:problem:no-such-route', title: TITLES[404]!, status, detail: 'no such endpoint; see /api/v1/openapi.json' };
      return { type: `urn:metaweave:problem:http-${status}`, title: TITLES[status] ?? 'Error', status, detail: TITLES[status] ?? `HTTP ${status}` };
    }
    const e = exception as { status?: unknown; type?: unknown; name?: unknown; stack?: unknown };
    // body-parser errors (http-errors): a status and a type, e.g. entity.too.large.
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      return { type: `urn:metaweave:problem:${typeof e.type === 'string' ? e.type.replace(/\./g, '-') : `http-${e.status}`}`, title: TITLES[e.status] ?? 'Bad Request', status: e.status, detail: TITLES[e.status] ?? 'the request was refused' };
    }
    this.logger.error({ errorName: typeof e?.name === 'string' ? e.name : 'unknown', frames: typeof e?.stack === 'string' ? e.stack.split('\n').slice(1, 6).join('\n') : undefined }, 'unexpected error in a request');
    return { type: 'urn:metaweave:problem:internal', title: TITLES[500]!, status: 500, detail: 'an unexpected error occurred; the request may not have been carried out — check the service log by time' };
  }
}

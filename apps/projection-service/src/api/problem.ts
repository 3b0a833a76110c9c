import { ArgumentsHost, Catch, HttpException, HttpStatus, Inject, type ExceptionFilter } from '@nestjs/common';
import { LOGGER, type Logger } from '@metaweave/platform';
import type { z } from 'zod';

/** A problem+json body (RFC 9457). */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  readonly errors?: readonly string[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** Throws a problem with this status and a reason a caller can act on. */
export function problem(status: number, detail: string, extra: { errors?: readonly string[] } = {}): HttpException {
  return new HttpException({ title: TITLES[status] ?? 'Error', detail, ...extra }, status);
}

/** Validated input or a 400 naming every bad field. */
export function parse<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const errors = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : what}: ${i.message}`);
  throw problem(400, `invalid ${what}: ${errors.join('; ')}`, { errors });
}

/**
 * Every error leaves as `application/problem+json` with a clear reason; an unexpected one is
 * logged and answered 500 without its internals.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<{ url?: string; method?: string }>();
    const res = http.getResponse<{ status(n: number): { type(t: string): { send(b: string): void } } }>();
    let body: Problem;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const r = exception.getResponse();
      const o = typeof r === 'string' ? { detail: r } : (r as Record<string, unknown>);
      const detail = typeof o['detail'] === 'string' ? o['detail'] : Array.isArray(o['message']) ? o['message'].join('; ') : String(o['message'] ?? exception.message);
      body = {
        type: 'about:blank',
        title: typeof o['title'] === 'string' ? o['title'] : (TITLES[status] ?? HttpStatus[status] ?? 'Error'),
        status,
        detail,
        instance: req.url,
        ...(Array.isArray(o['errors']) ? { errors: o['errors'] as string[] } : {}),
      };
    } else {
      this.logger.error({ err: exception, method: req.method, url: req.url }, 'request failed');
      body = { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'the request failed inside the service; see its log', instance: req.url };
    }
    res.status(body.status).type('application/problem+json').send(JSON.stringify(body));
  }
}

import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { ApiClient } from '../api/client';
import { makeSession, SessionProvider } from '../session/session';
import type { Role } from '../session/token';

/** One request the console made, as the API would see it. */
export interface Call {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | null;
}

export type Answer = { status: number; body: unknown };

/**
 * A stand-in for the HTTP server in jsdom (which has no fetch): answers by route and records
 * every call, so a test asserts what the console sent.
 */
export function fakeServer(route: (call: Call) => Answer | undefined) {
  const calls: Call[] = [];
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const call: Call = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: typeof init?.body === 'string' ? init.body : null,
    };
    calls.push(call);
    const a = route(call) ?? { status: 404, body: { type: 'about:blank', title: 'Not Found', status: 404, detail: `no route for ${call.method} ${call.url}` } };
    const text = JSON.stringify(a.body);
    return { ok: a.status >= 200 && a.status < 300, status: a.status, text: async () => text } as Response;
  }) as typeof fetch;
  return { calls, fetchImpl };
}

export function renderAs(roles: Role[], ui: ReactNode, fetchImpl: typeof fetch) {
  const api = new ApiClient({ token: 'test.token.sig', fetch: fetchImpl });
  const session = makeSession({ subject: 'tester', roles, expiresAt: null }, api);
  return render(<SessionProvider initial={session}>{ui}</SessionProvider>);
}

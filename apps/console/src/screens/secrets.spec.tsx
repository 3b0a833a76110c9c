/**
 * @jest-environment jsdom
 */
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { App } from '../App';
import { SessionProvider } from '../session/session';
import { Passwords } from './Passwords';
import { fakeServer, renderAs, type Call } from '../testing/render';

const PERSON = '11111111-2222-4333-8444-555555555555';
const SECRET = 'Corr3ct-Horse!Battery';
const OPERATION = {
  operationId: '99999999-2222-4333-8444-555555555555',
  op: 'set',
  status: 'succeeded',
  mvObjectId: PERSON,
  requestedBy: 'tester',
  requestedAt: '2026-11-23T10:00:00.000Z',
  targets: [{ connector: 'nt4-contoso', domain: 'CONTOSO', anchor: 'S-1-5-21-1-2-3-1001', accountName: 'jsmith', commandId: 'c1', expiresAt: '2026-11-23T10:05:00.000Z', result: 'success', message: null, completedAt: '2026-11-23T10:00:01.000Z' }],
};

/** Everything a browser could keep or show: storage, history, URL, cookies, the page. */
function watchBrowser() {
  const setItem = jest.spyOn(Storage.prototype, 'setItem');
  const pushState = jest.spyOn(window.history, 'pushState');
  const replaceState = jest.spyOn(window.history, 'replaceState');
  return {
    leaked(secret: string): string[] {
      const where: string[] = [];
      for (const c of setItem.mock.calls) if (c.join(' ').includes(secret)) where.push('Storage.setItem');
      for (const c of [...pushState.mock.calls, ...replaceState.mock.calls]) if (c.map(String).join(' ').includes(secret)) where.push('history');
      for (const s of [window.localStorage, window.sessionStorage]) for (let i = 0; i < s.length; i++) if ((s.getItem(s.key(i)!) ?? '').includes(secret)) where.push('storage');
      if (window.location.href.includes(secret) || window.location.href.includes(encodeURIComponent(secret))) where.push('URL');
      if (document.cookie.includes(secret)) where.push('cookie');
      if (document.documentElement.outerHTML.includes(secret)) where.push('page');
      for (const input of document.querySelectorAll('input')) if (input.value.includes(secret)) where.push(`input #${input.id}`);
      return where;
    },
    restore() {
      jest.restoreAllMocks();
    },
  };
}

describe('secrets stay out of the browser', () => {
  afterEach(() => jest.restoreAllMocks());

  it('a set password reaches the API body only; the fields are empty after submit and it is nowhere in the browser', async () => {
    const browser = watchBrowser();
    const server = fakeServer((c: Call) => {
      if (c.method === 'POST' && c.url === `/password/api/v1/persons/${PERSON}/password`) return { status: 202, body: { ...OPERATION, status: 'pending' } };
      if (c.url === `/password/api/v1/operations/${OPERATION.operationId}`) return { status: 200, body: OPERATION };
      return undefined;
    });
    renderAs(['password-set'], <Passwords person={PERSON} />, server.fetchImpl);

    const field = screen.getByLabelText('New password') as HTMLInputElement;
    const confirm = screen.getByLabelText('Confirm new password') as HTMLInputElement;
    expect(field.type).toBe('password'); // never echoed on screen
    expect(field.autocomplete).toBe('off');
    fireEvent.change(field, { target: { value: SECRET } });
    fireEvent.change(confirm, { target: { value: SECRET } });
    fireEvent.click(screen.getByRole('button', { name: 'Set password' }));

    // The outcome shows per target, and the password went out once, in the body.
    expect(await screen.findByText('CONTOSO\\jsmith')).toBeTruthy();
    await waitFor(() => expect(screen.getAllByText('success').length).toBeGreaterThan(0));
    const posts = server.calls.filter((c) => c.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]!.body!)).toMatchObject({ newPassword: SECRET });
    for (const c of server.calls) expect(c.url).not.toContain(SECRET);
    expect(field.value).toBe('');
    expect(confirm.value).toBe('');
    expect(browser.leaked(SECRET)).toEqual([]);
  });

  it('mismatched confirmation: nothing is sent and both fields are emptied', async () => {
    const browser = watchBrowser();
    const server = fakeServer(() => undefined);
    renderAs(['password-set'], <Passwords person={PERSON} />, server.fetchImpl);
    fireEvent.change(screen.getByLabelText('New password'), { target: { value: SECRET } });
    fireEvent.change(screen.getByLabelText('Confirm new password'), { target: { value: `${SECRET}x` } });
    fireEvent.click(screen.getByRole('button', { name: 'Set password' }));
    expect(await screen.findByText(/The two passwords differ/)).toBeTruthy();
    expect(server.calls).toHaveLength(0);
    expect(browser.leaked(SECRET)).toEqual([]);
  });

  it('a refused change shows the server’s reason and keeps neither password', async () => {
    const browser = watchBrowser();
    const server = fakeServer((c) =>
      c.url.startsWith('/password/api/v1/accounts/') ? { status: 422, body: { type: 'about:blank', title: 'Unprocessable Entity', status: 422, detail: "connector 'nt4-x' has no configured key" } } : undefined,
    );
    renderAs(['browse'], <Passwords />, server.fetchImpl);
    fireEvent.change(screen.getByLabelText('Connector'), { target: { value: 'nt4-x' } });
    fireEvent.change(screen.getByLabelText('Account (objectSid)'), { target: { value: 'S-1-5-21-1-2-3-1001' } });
    fireEvent.change(screen.getByLabelText('Old password'), { target: { value: `old-${SECRET}` } });
    fireEvent.change(screen.getByLabelText('New password for this account'), { target: { value: SECRET } });
    fireEvent.click(screen.getByRole('button', { name: 'Change password' }));
    expect(await screen.findByText(/has no configured key/)).toBeTruthy();
    expect(browser.leaked(SECRET)).toEqual([]);
    expect(browser.leaked(`old-${SECRET}`)).toEqual([]);
  });

  it('the session token is kept in memory only: not in storage, cookies, history or the URL', async () => {
    const browser = watchBrowser();
    // A syntactically valid unsigned token (the console only reads claims; servers verify).
    const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const token = `${b64({ alg: 'EdDSA' })}.${b64({ sub: 'alice', roles: ['browse'], exp: Math.floor(Date.now() / 1000) + 600 })}.c2lnbmF0dXJl`;
    render(
      <SessionProvider>
        <App />
      </SessionProvider>,
    );
    const box = screen.getByLabelText('Bearer token') as HTMLTextAreaElement;
    fireEvent.change(box, { target: { value: token } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByText(/alice/)).toBeTruthy();
    expect(browser.leaked(token)).toEqual([]);
    expect(browser.leaked(token.split('.')[1]!)).toEqual([]);
  });
});

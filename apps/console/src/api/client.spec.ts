import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient, ApiError } from './client';

/** A real HTTP server answering as the APIs do, recording what the client sent. */
interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

describe('ApiClient', () => {
  let server: Server;
  let origin: string;
  const seen: Seen[] = [];
  let reply: (req: IncomingMessage) => { status: number; type?: string; body: string };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
        const r = reply(req);
        res.writeHead(r.status, { 'content-type': r.type ?? 'application/json' });
        res.end(r.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (seen.length = 0));

  const client = () => new ApiClient({ token: 'tok.en.value', origin });
  const problem = (status: number, detail: string, errors?: string[]) => ({
    status,
    type: 'application/problem+json',
    body: JSON.stringify({ type: 'about:blank', title: 'x', status, detail, ...(errors ? { errors } : {}) }),
  });

  async function failure(p: Promise<unknown>): Promise<ApiError> {
    try {
      await p;
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      return e as ApiError;
    }
    throw new Error('the call succeeded');
  }

  it('sends the bearer token in the Authorization header and search filters as attr=name=value, never the token in the URL', async () => {
    reply = () => ({ status: 200, body: JSON.stringify({ count: 0, offset: 0, limit: 25, nextOffset: null, objects: [] }) });
    const r = await client().searchObjects({ type: 'person', filters: [['sid', 'S-1-5-21-1-2-3-1001'], ['mail', 'a&b@x']], limit: 25 });
    expect(r.count).toBe(0);
    expect(seen[0]!.authorization).toBe('Bearer tok.en.value');
    const url = new URL(seen[0]!.url, origin);
    expect(url.pathname).toBe('/projection/api/v1/objects');
    expect(url.searchParams.getAll('attr')).toEqual(['sid=S-1-5-21-1-2-3-1001', 'mail=a&b@x']);
    expect(url.searchParams.get('type')).toBe('person');
    expect(seen[0]!.url).not.toContain('tok.en.value');
  });

  it('surfaces a 400 problem+json as its detail and per-field errors', async () => {
    reply = () => problem(400, "invalid search parameters: limit: expected a whole number", ['limit: expected a whole number']);
    const e = await failure(client().searchObjects({ filters: [], limit: 25 }));
    expect(e.status).toBe(400);
    expect(e.message).toBe('invalid search parameters: limit: expected a whole number');
    expect(e.errors).toEqual(['limit: expected a whole number']);
  });

  it('tells the user to log in again on 401, with the server’s reason', async () => {
    reply = () => problem(401, 'the bearer token has expired');
    const e = await failure(client().listRuns());
    expect(e.unauthenticated).toBe(true);
    expect(e.message).toMatch(/the bearer token has expired.*Log in again/);
  });

  it('names the refused action and the missing role on 403', async () => {
    reply = () => problem(403, "this needs the role 'operators'");
    const e = await failure(client().startRun({ connector: 'exchange', partition: 'SiteA', step: 'delta-import' }));
    expect(e.status).toBe(403);
    expect(e.message).toContain('starting delta-import on exchange/SiteA');
    expect(e.message).toContain("this needs the role 'operators'");
  });

  it('says what to do when a 502 carries no problem body', async () => {
    reply = () => ({ status: 502, type: 'text/html', body: '<html>bad gateway</html>' });
    const e = await failure(client().heldDeletes());
    expect(e.status).toBe(502);
    expect(e.message).toMatch(/reading held deletes.*Check that the service is running/);
  });

  it('says a 404 from a framework route table means the service lacks the endpoint', async () => {
    reply = () => ({ status: 404, body: JSON.stringify({ message: 'Cannot GET /api/v1/preview/nt4/S-1', error: 'Not Found', statusCode: 404 }) });
    const e = await failure(client().preview('nt4', 'S-1'));
    expect(e.message).toMatch(/^previewing nt4 object S-1: the service behind the API does not offer this yet/);
  });

  it('reports an unreachable server as status 0 with what to check', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const e = await failure(new ApiClient({ token: 't.o.k', origin: `http://127.0.0.1:${port}` }).getRun('00000000-0000-4000-8000-000000000000'));
    expect(e.status).toBe(0);
    expect(e.message).toMatch(/Cannot reach the server for reading run .*retry/);
  });

  it('sends a password in the request body only: not in the URL', async () => {
    reply = () => ({ status: 202, body: JSON.stringify({ operationId: 'op', op: 'set', status: 'pending', targets: [] }) });
    await client().setPassword('11111111-2222-4333-8444-555555555555', { newPassword: 'S3cret!pw', forceChangeAtNextLogon: false, unlock: true });
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.url).toBe('/password/api/v1/persons/11111111-2222-4333-8444-555555555555/password');
    expect(JSON.parse(seen[0]!.body)).toEqual({ newPassword: 'S3cret!pw', forceChangeAtNextLogon: false, unlock: true });
  });

  it('encodes path segments (anchors with slashes and spaces stay one segment)', async () => {
    reply = () => ({ status: 200, body: '{}' });
    await client().getConnectorObject('exchange', 'cn=a b/c');
    expect(seen[0]!.url).toBe('/projection/api/v1/connectors/exchange/objects/cn%3Da%20b%2Fc');
  });
});

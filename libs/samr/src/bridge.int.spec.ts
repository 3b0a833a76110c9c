// The bridge process and its protocol, exercised through the real bridge against the live Samba:
// hello, correlation of many in-flight requests, big frames, timeouts, a killed process, a
// connection cut under it, unreachable servers, bad credentials, and no password ever in a log
// line or an error message.
import { createServer, connect as tcpConnect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { freePort, samrStandIn, stackEnv, uniqueSuffix } from '@metaweave/testing';
import { SamrBridge } from './bridge';
import type { SamrDomain } from './bridge';
import { isSamrError } from './errors';
import type { SamrError } from './errors';
import type { SamrConnectOptions } from './protocol';

const env = stackEnv();
const prefix = `sb${uniqueSuffix().slice(0, 5)}`;
const options: SamrConnectOptions = samrStandIn(env);
const bridges: SamrBridge[] = [];

async function start(extra: Parameters<typeof SamrBridge.start>[0] = {}): Promise<SamrBridge> {
  const b = await SamrBridge.start(extra);
  bridges.push(b);
  return b;
}

async function failure(p: Promise<unknown>): Promise<SamrError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSamrError(error)) throw new Error(`expected a SamrError, got ${String(error)}`);
  return error;
}

/** A TCP relay to the SMB port whose connections the test can cut. */
async function relay(targetPort: number): Promise<{ port: number; cut: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    cut: () => {
      const n = sockets.size;
      for (const s of sockets) s.destroy();
      return n;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let main: SamrBridge;
let domain: SamrDomain;
const stderr: string[] = [];

beforeAll(async () => {
  main = await start({ onStderr: (l) => stderr.push(l) });
  domain = await main.connect({ ...options, debugLevel: 2 });
});

afterAll(async () => {
  if (domain) {
    for (const u of await domain.listUsers().catch(() => [])) if (u.accountName.startsWith(prefix)) await domain.deleteUser(u.rid).catch(() => undefined);
  }
  for (const b of bridges) await b.close();
});

describe('SAMR bridge process and protocol (live Samba)', () => {
  it('says hello with protocol 1 and the Samba version', () => {
    expect(main.hello).toMatchObject({ protocol: 1, samba: expect.stringMatching(/^4\.\d+/) });
    expect(main.pid).toBe(main.hello!.pid);
  });

  it('correlates many in-flight requests by id', async () => {
    const names = Array.from({ length: 120 }, (_, i) => `${prefix}n${i}`);
    const results = await Promise.all(names.map((n, i) => (i % 3 === 0 ? domain.getUser(1000).then((u) => u.accountName) : domain.lookupNames([n]).then((r) => r[0]!.name))));
    expect(results).toEqual(names.map((n, i) => (i % 3 === 0 ? env['MW_SAMBA_ADMIN_USER'] : n)));
  });

  it('carries big frames intact (one response line of about a megabyte)', async () => {
    const rids = Array.from({ length: 1500 }, () => 1000);
    const items = await domain.getUsers(rids);
    expect(items).toHaveLength(1500);
    expect(items.every((i) => i.ok && i.value.accountName === env['MW_SAMBA_ADMIN_USER'])).toBe(true);
  });

  it('answers protocol misuse with typed errors', async () => {
    expect((await failure(main.request('noSuchOp', { domain: domain.name }))).status).toBe('NOT_SUPPORTED');
    const missing = await failure(main.request('getUser', { domain: domain.name }));
    expect(missing.status).toBe('INVALID_PARAMETER');
    expect(missing.message).toContain("'rid'");
    expect((await failure(main.request('getUser', { domain: domain.name, rid: '1000' }))).status).toBe('INVALID_PARAMETER');
    expect((await failure(main.request('getUser', { domain: 'NOTCONNECTED', rid: 1000 }))).status).toBe('NOT_CONNECTED');
  });

  it('times a request out (retriable), replaces the busy process and reconnects the domain', async () => {
    const before = main.pid;
    const restarts = main.restarts;
    const e = await failure(main.request('getUsers', { domain: domain.name, rids: Array(3000).fill(1000) }, { timeoutMs: 5 }));
    expect(e.status).toBe('TIMEOUT');
    expect(e.retriable).toBe(true);
    expect((await domain.getUser(1000)).rid).toBe(1000);
    expect(main.pid).not.toBe(before);
    expect(main.restarts).toBe(restarts + 1);
  });

  it('fails in-flight requests with a retriable CONNECTION_BROKEN when the process dies, then recovers', async () => {
    await domain.getUser(1000); // a running process, connected
    const inFlight = Array.from({ length: 10 }, () => domain.getUsers(Array(400).fill(1000)).then(() => 'answered', (err: unknown) => err));
    await new Promise((r) => setTimeout(r, 30));
    process.kill(main.pid!, 'SIGKILL');
    const outcomes = await Promise.all(inFlight);
    const broken = outcomes.filter((o): o is SamrError => isSamrError(o));
    expect(broken.length).toBeGreaterThan(0);
    for (const b of broken) expect(b).toMatchObject({ status: 'CONNECTION_BROKEN', retriable: true });
    expect(outcomes.filter((o) => o !== 'answered' && !isSamrError(o))).toEqual([]);
    expect((await domain.getUser(1000)).rid).toBe(1000);
  });

  it('reconnects under a cut SMB connection: reads retry transparently, a write fails retriably', async () => {
    const r = await relay(Number(env['MW_SAMBA_PORT']));
    const log: string[] = [];
    const b = await start({ onStderr: (l) => log.push(l) });
    try {
      const d = await b.connect({ ...options, port: r.port });
      const u = await domain.createUser({ accountName: `${prefix}cut` });
      expect((await d.getUser(u.rid)).accountName).toBe(`${prefix}cut`);
      expect(r.cut()).toBeGreaterThan(0);
      expect((await d.getUser(u.rid)).accountName).toBe(`${prefix}cut`); // read: reconnected and retried once
      expect(r.cut()).toBeGreaterThan(0);
      const e = await failure(d.updateUser(u.rid, { fields: { fullName: 'cut' } }));
      expect(e).toMatchObject({ status: 'CONNECTION_BROKEN', retriable: true });
      expect((await d.updateUser(u.rid, { fields: { fullName: 'after' } })).fullName).toBe('after'); // next write: new connection
      expect(log.filter((l) => /connected to 127\.0\.0\.1:\d+ domain/.test(l))).toHaveLength(3);
      expect(log.some((l) => /connection lost \(NT_STATUS_\w+\); reconnecting and retrying the read once/.test(l))).toBe(true);
      expect(log.some((l) => /connection lost during a write \(NT_STATUS_\w+\)/.test(l))).toBe(true);
    } finally {
      await b.close();
      await r.close();
    }
  });

  it('says UNREACHABLE (retriable) for a port nobody listens on', async () => {
    const b = await start();
    const e = await failure(b.connect({ ...options, port: await freePort() }));
    expect(e).toMatchObject({ status: 'UNREACHABLE', retriable: true, ntStatus: 'NT_STATUS_CONNECTION_REFUSED', category: 'ConnectionBroken' });
  });

  it('says LOGON_FAILURE (not retriable) for a wrong admin password, NO_SUCH_DOMAIN for an unknown domain', async () => {
    const b = await start();
    const e = await failure(b.connect({ ...options, password: `Wrong-${uniqueSuffix()}` }));
    expect(e).toMatchObject({ status: 'LOGON_FAILURE', retriable: false, category: 'InvalidCredentials' });
    expect((await failure(b.connect({ ...options, domain: 'NOSUCHDOM' }))).status).toBe('NO_SUCH_DOMAIN');
    expect((await failure(b.connect({ ...options, password: '' }))).status).toBe('INVALID_PARAMETER');
  });

  it('speaks SMB1 (NT LM 0.12) when told to, as a real NT 4.0 needs', async () => {
    const b = await start();
    const d = await b.connect({ ...options, smb1: true });
    expect((await d.getUser(1000)).rid).toBe(1000);
  });

  it('refuses to start with an interpreter that is not there (PROTOCOL_ERROR, not retriable)', async () => {
    const e = await failure(SamrBridge.start({ pythonPath: '/nonexistent/python3' }));
    expect(e).toMatchObject({ status: 'PROTOCOL_ERROR', retriable: false });
  });

  it('lets in-flight requests finish on close, and refuses new ones after', async () => {
    const b = await SamrBridge.start();
    const d = await b.connect(options);
    const pending = d.getUsers(Array(300).fill(1000));
    const closing = b.close();
    expect((await pending).length).toBe(300);
    await closing;
    expect((await failure(d.getUser(1000))).status).toBe('NOT_CONNECTED');
  });

  it('never lets a password into its stderr or into an error message', async () => {
    const tag = uniqueSuffix();
    const secrets = { wrongAdmin: `Wr0ng-Admin-${tag}`, initial: `Init-${tag}-Pw!`, reset: `Reset-${tag}-Pw!`, next: `Next-${tag}-Pw!`, bad: `Bad-${tag}-Pw!` };
    const lines: string[] = [];
    const b = await start({ onStderr: (l) => lines.push(l) });
    const messages: string[] = [];
    const collect = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => {
          messages.push(String((e as Error).message), JSON.stringify(e), String((e as Error).stack));
        },
      );
    await collect(b.connect({ ...options, password: secrets.wrongAdmin, debugLevel: 2 }));
    const d = await b.connect({ ...options, debugLevel: 2 });
    const u = await d.createUser({ accountName: `${prefix}sec`, password: secrets.initial });
    await d.setPassword(u.rid, secrets.reset);
    await collect(d.changePassword(`${prefix}sec`, secrets.bad, secrets.next));
    await collect(d.changePassword(`${prefix}sec`, secrets.reset, 'ab'));
    await d.changePassword(`${prefix}sec`, secrets.reset, secrets.next);
    expect((await d.verifyLogon(`${prefix}sec`, secrets.bad)).ok).toBe(false);
    expect((await d.verifyLogon(`${prefix}sec`, secrets.next)).ok).toBe(true);
    await collect(d.createUser({ accountName: `${prefix}sec`, password: secrets.initial }));
    await collect(d.setPassword(0x7ffffff0, secrets.reset));
    await collect(b.request('setPassword', { domain: d.name, rid: 'nope', password: secrets.reset }));
    await collect(b.request('changePassword', { domain: d.name, accountName: `${prefix}sec`, oldPassword: secrets.next, newPassword: 42 }));
    await collect(b.request('createUser', { domain: d.name, accountName: `${prefix}sec2`, password: secrets.initial, fields: { logonHours: { unitsPerWeek: 168, bits: secrets.bad } } }));
    await d.deleteUser(u.rid);
    await b.close();

    expect(messages.length).toBeGreaterThanOrEqual(8 * 3);
    expect(lines.length).toBeGreaterThan(0);
    const haystack = [...lines, ...messages, ...stderr].join('\n');
    for (const s of [...Object.values(secrets), options.password]) expect(haystack).not.toContain(s);
  });
});

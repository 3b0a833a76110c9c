import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The console's server as a real process, in front of a real HTTP server standing in for the query API. */
describe('console server (serve.mjs)', () => {
  const script = join(__dirname, 'serve.mjs');
  const dist = mkdtempSync(join(tmpdir(), 'mw-console-dist-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(dist, 'assets', 'app-123.js'), 'console.log(1)');

  let api: Server;
  let apiUrl: string;
  const seen: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  let proc: ChildProcess;
  let base: string;

  function start(env: Record<string, string>): Promise<{ proc: ChildProcess; url?: string; code?: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const p = spawn(process.execPath, [script], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      p.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      p.stdout!.on('data', (c: Buffer) => {
        const m = /"url":"([^"]+)"/.exec(c.toString());
        if (m) resolve({ proc: p, url: m[1]!.replace(/\/$/, ''), stderr });
      });
      p.on('exit', (code) => resolve({ proc: p, code, stderr }));
    });
  }

  beforeAll(async () => {
    api = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ url: req.url!, headers: req.headers, body });
        res.writeHead(req.url!.startsWith('/api/v1/runs') ? 403 : 200, { 'content-type': 'application/problem+json', 'set-cookie': 'x=y' });
        res.end(JSON.stringify({ detail: 'from the api' }));
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    const s = await start({ MW_CONSOLE_PORT: '0', MW_CONSOLE_PROJECTION_URL: apiUrl, MW_CONSOLE_DIST: dist });
    if (!s.url) throw new Error(`console server did not start: ${s.stderr}`);
    proc = s.proc;
    base = s.url;
  });

  afterAll(async () => {
    proc?.kill('SIGTERM');
    await new Promise<void>((r) => api.close(() => r()));
    rmSync(dist, { recursive: true, force: true });
  });

  it('forwards /projection/* to the query API with the bearer token and body, and nothing else of the browser', async () => {
    const res = await fetch(`${base}/projection/api/v1/runs?limit=5`, {
      method: 'POST',
      headers: { authorization: 'Bearer a.b.c', 'content-type': 'application/json', cookie: 'session=1' },
      body: JSON.stringify({ step: 'delta-import' }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ detail: 'from the api' });
    const last = seen[seen.length - 1]!;
    expect(last.url).toBe('/api/v1/runs?limit=5');
    expect(last.headers['authorization']).toBe('Bearer a.b.c');
    expect(last.headers['cookie']).toBeUndefined();
    expect(JSON.parse(last.body)).toEqual({ step: 'delta-import' });
  });

  it('answers 503 problem+json naming the setting when the password API is not configured', async () => {
    const res = await fetch(`${base}/password/api/v1/operations/x`);
    expect(res.status).toBe(503);
    expect((await res.json()).detail).toContain('MW_CONSOLE_PASSWORD_URL');
  });

  it('serves the app with a strict content security policy, never cached; assets cached; unknown paths get the app', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const asset = await fetch(`${base}/assets/app-123.js`);
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const other = await fetch(`${base}/some/deep/link`);
    expect(await other.text()).toContain('<title>console</title>');
    const escape = await fetch(`${base}/..%2f..%2fetc%2fpasswd`);
    expect(await escape.text()).toContain('<title>console</title>');
  });

  it('says the query API is unreachable, with what to check', async () => {
    const closed = await start({ MW_CONSOLE_PORT: '0', MW_CONSOLE_PROJECTION_URL: 'http://127.0.0.1:1', MW_CONSOLE_DIST: dist });
    try {
      const res = await fetch(`${closed.url}/projection/api/v1/objects`);
      expect(res.status).toBe(502);
      expect((await res.json()).detail).toMatch(/projection API at http:\/\/127\.0\.0\.1:1 is unreachable.*MW_CONSOLE_PROJECTION_URL/);
    } finally {
      closed.proc.kill('SIGTERM');
    }
  });

  it('stops with exit code 78 naming each bad setting', async () => {
    const r = await start({ MW_CONSOLE_PORT: '99999', MW_CONSOLE_PROJECTION_URL: 'ftp://x', MW_CONSOLE_DIST: join(dist, 'nope') });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('MW_CONSOLE_PORT');
    expect(r.stderr).toContain('MW_CONSOLE_PROJECTION_URL');
    expect(r.stderr).toContain('MW_CONSOLE_DIST');
  });
});

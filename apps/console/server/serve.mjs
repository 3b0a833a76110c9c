// @ts-check
/**
 * The console's own small server (ADR 0060): serves the built app (dist/console) and forwards two
 * prefixes to the APIs, so the browser talks to one origin and no API needs CORS:
 *   /projection/<path> → MW_CONSOLE_PROJECTION_URL/<path>   (query API)
 *   /password/<path>   → MW_CONSOLE_PASSWORD_URL/<path>     (password API)
 * It holds no secret and logs no header or body: the user's bearer token passes through in the
 * Authorization header only. Node's standard library only; no dependency.
 *
 * Settings (environment): MW_CONSOLE_PORT (default 7110), MW_CONSOLE_HOST (default 127.0.0.1),
 * MW_CONSOLE_PROJECTION_URL (required), MW_CONSOLE_PASSWORD_URL (optional), MW_CONSOLE_DIST
 * (default <repo>/dist/console). A bad value stops the server with exit code 78 naming the key.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** @typedef {{ port: number, host: string, dist: string, upstreams: Record<string, URL | null> }} ConsoleServerConfig */

/**
 * @param {Record<string, string | undefined>} env
 * @returns {ConsoleServerConfig}
 */
export function loadConfig(env) {
  /** @type {string[]} */
  const problems = [];
  const port = Number(env['MW_CONSOLE_PORT'] ?? 7110);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push('MW_CONSOLE_PORT: expected a port number 0–65535');
  /** @param {string} key @param {boolean} required */
  const url = (key, required) => {
    const raw = env[key];
    if (!raw) {
      if (required) problems.push(`${key}: required but not set (the service's base URL, e.g. http://127.0.0.1:7105)`);
      return null;
    }
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
      return u;
    } catch {
      problems.push(`${key}: expected an http(s) URL, e.g. http://127.0.0.1:7105`);
      return null;
    }
  };
  const upstreams = { projection: url('MW_CONSOLE_PROJECTION_URL', true), password: url('MW_CONSOLE_PASSWORD_URL', false) };
  const dist = resolve(env['MW_CONSOLE_DIST'] ?? join(here, '../../../dist/console'));
  if (!existsSync(join(dist, 'index.html'))) problems.push(`MW_CONSOLE_DIST: no index.html in ${dist} (run npm run console:build)`);
  if (problems.length) {
    const error = new Error(`invalid console server configuration:\n  ${problems.join('\n  ')}`);
    error.name = 'ConfigError';
    throw error;
  }
  return { port, host: env['MW_CONSOLE_HOST'] ?? '127.0.0.1', dist, upstreams };
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Headers on every page and asset: no inline script, no framing, no referrer, nothing sniffed. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

/** Request headers passed to an API; nothing else of the browser's goes along (no cookies). */
const FORWARDED_REQUEST = ['authorization', 'content-type', 'accept', 'content-length', 'traceparent', 'tracestate'];
const FORWARDED_RESPONSE = ['content-type', 'location', 'retry-after'];

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {string} detail
 */
function problem(res, status, detail) {
  const titles = /** @type {Record<number, string>} */ ({ 404: 'Not Found', 405: 'Method Not Allowed', 502: 'Bad Gateway', 503: 'Service Unavailable' });
  res.writeHead(status, { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...SECURITY_HEADERS });
  res.end(JSON.stringify({ type: 'about:blank', title: titles[status] ?? 'Error', status, detail }));
}

/**
 * @param {URL} upstream
 * @param {string} name
 * @param {string} rest
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 */
function forward(upstream, name, rest, req, res) {
  const target = new URL(upstream.pathname.replace(/\/+$/, '') + rest, upstream);
  /** @type {Record<string, string | string[]>} */
  const headers = {};
  for (const h of FORWARDED_REQUEST) {
    const v = req.headers[h];
    if (v !== undefined) headers[h] = v;
  }
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const out = send(target, { method: req.method, headers, timeout: 30_000 }, (up) => {
    /** @type {Record<string, string | string[]>} */
    const back = { 'cache-control': 'no-store', ...SECURITY_HEADERS };
    for (const h of FORWARDED_RESPONSE) {
      const v = up.headers[h];
      if (v !== undefined) back[h] = v;
    }
    res.writeHead(up.statusCode ?? 502, back);
    up.pipe(res);
  });
  out.on('timeout', () => out.destroy(new Error('no answer within 30 s')));
  out.on('error', (error) => {
    if (!res.headersSent) problem(res, 502, `the ${name} API at ${upstream.origin} is unreachable (${error.message}); check that the service runs and MW_CONSOLE_${name.toUpperCase()}_URL points at it`);
    else res.destroy();
  });
  req.pipe(out);
}

/**
 * @param {ConsoleServerConfig} config
 * @param {string} urlPath
 * @param {import('node:http').ServerResponse} res
 */
function serveFile(config, urlPath, res) {
  let path;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return problem(res, 404, 'no such file');
  }
  const file = normalize(join(config.dist, path));
  // The app uses hash routes; any other path that is not a built file gets the app itself.
  const inside = file.startsWith(config.dist + sep);
  const exists = inside && existsSync(file) && statSync(file).isFile();
  const chosen = exists ? file : join(config.dist, 'index.html');
  const isIndex = chosen.endsWith(`${sep}index.html`);
  res.writeHead(200, {
    'content-type': TYPES[/** @type {keyof typeof TYPES} */ (extname(chosen))] ?? 'application/octet-stream',
    // Built assets carry a content hash in their names; the page itself is never cached.
    'cache-control': isIndex ? 'no-store' : 'public, max-age=31536000, immutable',
    ...SECURITY_HEADERS,
  });
  createReadStream(chosen).pipe(res);
}

/** @param {ConsoleServerConfig} config */
export function createConsoleServer(config) {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://console');
    if (url.pathname === '/health/live' || url.pathname === '/health/ready') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return res.end(JSON.stringify({ status: 'ok' }));
    }
    const m = /^\/(projection|password)(\/.*)$/.exec(url.pathname);
    if (m) {
      const name = /** @type {string} */ (m[1]);
      const upstream = config.upstreams[name];
      if (!upstream) return problem(res, 503, `the ${name} API is not configured for this console (set MW_CONSOLE_${name.toUpperCase()}_URL)`);
      return forward(upstream, name, `${m[2]}${url.search}`, req, res);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return problem(res, 405, 'the console serves files with GET only');
    return serveFile(config, url.pathname, res);
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    process.stderr.write(`${/** @type {Error} */ (error).message}\n`);
    process.exit(78);
  }
  const server = createConsoleServer(config);
  server.listen(config.port, config.host, () => {
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'console listening', url: `http://${config.host}:${port}/`, dist: config.dist })}\n`);
  });
  for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT'])) process.on(signal, () => server.close(() => process.exit(0)));
}

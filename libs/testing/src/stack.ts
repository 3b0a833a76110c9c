import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

let cached: Record<string, string> | undefined;

/**
 * The settings of the local stack (`deploy/local/stack.sh env`). Tests expect the stack to be up:
 * `scripts/test.sh` starts it; a test run by hand needs `npx mw stack up --infra-only` first.
 */
export function stackEnv(): Record<string, string> {
  if (cached) return cached;
  const out = execFileSync('bash', [join(REPO_ROOT, 'deploy', 'local', 'stack.sh'), 'env'], { encoding: 'utf8' });
  const env: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!.startsWith("'") ? m[2]!.slice(1, -1).replace(/'\\''/g, "'") : m[2]!;
  }
  cached = env;
  return env;
}

/** A short random suffix for topic prefixes, schemas, groups and LDAP sites of one test file. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** How tests reach the NT4 stand-in through Samba's SAMR library (the admin account of the local stack). */
export function samrStandIn(env: Record<string, string> = stackEnv()): {
  host: string;
  port: number;
  domain: string;
  username: string;
  password: string;
  clientConf: string;
} {
  return {
    host: env['MW_SAMBA_HOST']!,
    port: Number(env['MW_SAMBA_PORT']),
    domain: env['MW_SAMBA_DOMAIN']!,
    username: env['MW_SAMBA_ADMIN_USER']!,
    password: env['MW_SAMBA_ADMIN_PASSWORD']!,
    clientConf: env['MW_SAMBA_CLIENT_CONF']!,
  };
}

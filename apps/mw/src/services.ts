import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { devPublicKey } from './auth';
import { devPasswordKey, passwordServiceDevEnv } from './commands/password';
import { DATA_DIR, ROOT, stackEnv } from './workspace';

export interface ServiceSpec {
  readonly name: string;
  readonly port: number;
  /** Environment of the service, from the local stack's settings. */
  env(stack: Record<string, string>): Record<string, string>;
}

const common = (name: string, port: number, stack: Record<string, string>) => {
  const schema = name.replace(/-/g, '_');
  return {
    MW_KAFKA_BROKERS: stack['KAFKA_BROKERS'] ?? '127.0.0.1:19092',
    MW_DATABASE_URL: stack[`MW_PG_URL_${schema.toUpperCase()}`] ?? '',
    MW_DATABASE_SCHEMA: schema,
    MW_HTTP_PORT: String(port),
    MW_HTTP_HOST: '127.0.0.1',
    MW_OTEL_EXPORTER: 'file',
    MW_OTEL_FILE: join(DATA_DIR, 'traces', `${name}.jsonl`),
    MW_LOG_LEVEL: process.env['MW_LOG_LEVEL'] ?? 'info',
  };
};

/** Services listen on MW_SERVICES_PORT_BASE + 1..5 (default 7101..7105; README: Ports). */
const BASE = Number(process.env['MW_SERVICES_PORT_BASE'] ?? 7100);
export const PORTS = {
  'exchange-connector': BASE + 1,
  'nt4-connector': BASE + 2,
  'join-engine': BASE + 3,
  'password-service': BASE + 4,
  'projection-service': BASE + 5,
} as const;

/** The NT4 connector reads MW_NT4_PASSWORD_KEYS_FILE as a JSON array of key pairs (key rotation). */
function devPasswordKeyFile(connector: string): string {
  const file = join(DATA_DIR, 'keys', `password-${connector}.keys.json`);
  writeFileSync(file, JSON.stringify([devPasswordKey(connector)], null, 2) + '\n', { mode: 0o600 });
  return file;
}

/** The five services, in start order. */
export const SERVICES: readonly ServiceSpec[] = [
  {
    name: 'projection-service',
    port: PORTS['projection-service'],
    env: (s) => {
      const nt4 = `http://127.0.0.1:${PORTS['nt4-connector']}`;
      return {
        ...common('projection-service', PORTS['projection-service'], s),
        // Tokens minted by `mw` with the local stack's dev key (apps/mw/src/auth.ts).
        MW_AUTH_PUBLIC_KEYS: devPublicKey(),
        MW_CONNECTOR_URLS: [
          `exchange=http://127.0.0.1:${PORTS['exchange-connector']}`,
          `nt4=${nt4}`,
          ...(s['MW_SAMBA_DOMAIN'] ? [`nt4-${s['MW_SAMBA_DOMAIN'].toLowerCase()}=${nt4}`] : []),
        ].join(','),
        MW_JOIN_ENGINE_URL: `http://127.0.0.1:${PORTS['join-engine']}`,
      };
    },
  },
  { name: 'join-engine', port: PORTS['join-engine'], env: (s) => common('join-engine', PORTS['join-engine'], s) },
  {
    name: 'password-service',
    port: PORTS['password-service'],
    // Dev keys under .mw/keys/ (apps/mw/src/commands/password.ts): token signing key, NT4 connector key.
    env: (s) => ({ ...common('password-service', PORTS['password-service'], s), ...passwordServiceDevEnv(s) }),
  },
  {
    name: 'nt4-connector',
    port: PORTS['nt4-connector'],
    env: (s) => ({
      ...common('nt4-connector', PORTS['nt4-connector'], s),
      MW_NT4_DOMAIN: s['MW_SAMBA_DOMAIN'] ?? '',
      MW_NT4_HOST: s['MW_SAMBA_HOST'] ?? '127.0.0.1',
      MW_NT4_PORT: s['MW_SAMBA_PORT'] ?? '445',
      MW_NT4_ADMIN_USER: s['MW_SAMBA_ADMIN_USER'] ?? '',
      MW_NT4_ADMIN_PASSWORD: s['MW_SAMBA_ADMIN_PASSWORD'] ?? '',
      MW_NT4_CLIENT_CONF: s['MW_SAMBA_CLIENT_CONF'] ?? '',
      // The private half of the key the local password service seals to (.mw/keys/).
      MW_NT4_PASSWORD_KEYS_FILE: devPasswordKeyFile(`nt4-${(s['MW_SAMBA_DOMAIN'] ?? 'contoso').toLowerCase()}`),
    }),
  },
  {
    name: 'exchange-connector',
    port: PORTS['exchange-connector'],
    env: (s) => ({
      ...common('exchange-connector', PORTS['exchange-connector'], s),
      MW_LDAP_URL: s['MW_LDAP_URL'] ?? '',
      MW_LDAP_BIND_DN: s['MW_LDAP_BIND_DN'] ?? '',
      MW_LDAP_BIND_PASSWORD: s['MW_LDAP_BIND_PASSWORD'] ?? '',
      MW_LDAP_BASE_DN: s['MW_LDAP_BASE_DN'] ?? '',
      MW_EXCHANGE_SITES: 'SiteA,SiteB',
    }),
  },
];

export function serviceSpec(name: string): ServiceSpec {
  const spec = SERVICES.find((s) => s.name === name);
  if (!spec) throw new Error(`unknown service '${name}' (known: ${SERVICES.map((s) => s.name).join(', ')})`);
  return spec;
}

const runDir = join(DATA_DIR, 'run');
const logDir = join(DATA_DIR, 'logs');
export const pidFile = (name: string) => join(runDir, `${name}.pid`);
export const logFile = (name: string) => join(logDir, `${name}.log`);
export const entryPoint = (name: string) => join(ROOT, 'dist', 'apps', name, 'src', 'main.js');
export const REGISTER = join(ROOT, 'tools', 'bin', 'register-paths.cjs');

export function servicePid(name: string): number | null {
  if (!existsSync(pidFile(name))) return null;
  const pid = Number(readFileSync(pidFile(name), 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** Ready, and it is our process answering on the port (not another stack's). */
export async function isReady(spec: ServiceSpec): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${spec.port}/health/ready`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return false;
    const body = (await res.json()) as { pid?: number };
    return body.pid === servicePid(spec.name);
  } catch {
    return false;
  }
}

/** Starts a service in the background (pid file, log file) unless it already runs. */
export function startService(spec: ServiceSpec, stack = stackEnv()): number {
  const running = servicePid(spec.name);
  if (running) return running;
  mkdirSync(runDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const out = openSync(logFile(spec.name), 'a');
  const child = spawn(process.execPath, ['-r', REGISTER, entryPoint(spec.name)], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', out, out],
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...spec.env(stack) },
  });
  closeSync(out);
  child.unref();
  writeFileSync(pidFile(spec.name), String(child.pid));
  return child.pid!;
}

/** Waits until the service answers ready; fails early, with its log's tail, if it exits. */
export async function waitReady(spec: ServiceSpec, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isReady(spec)) return;
    if (!servicePid(spec.name)) {
      throw new Error(`${spec.name} exited during start-up; log ${logFile(spec.name)}:\n${tail(logFile(spec.name), 15)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${spec.name} not ready after ${timeoutMs / 1000} s; log ${logFile(spec.name)}:\n${tail(logFile(spec.name), 15)}`);
}

/** SIGTERM (graceful drain), then SIGKILL after the grace period; removes the pid file. */
export async function stopService(name: string, graceMs = 30_000): Promise<boolean> {
  const pid = servicePid(name);
  if (!pid) {
    rmSync(pidFile(name), { force: true });
    return false;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && servicePid(name)) await new Promise((r) => setTimeout(r, 100));
  if (servicePid(name)) process.kill(pid, 'SIGKILL');
  while (servicePid(name)) await new Promise((r) => setTimeout(r, 50));
  rmSync(pidFile(name), { force: true });
  return true;
}

export function tail(path: string, lines: number): string {
  if (!existsSync(path)) return '(no log)';
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

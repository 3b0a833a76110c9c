import type { Command } from 'commander';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Role } from '@metaweave/auth';
import { generateRecipientKeyPair, type RecipientKeyPair } from '@metaweave/secrets';
import { urls } from '../api';
import { devPublicKey, devToken } from '../auth';
import { DATA_DIR } from '../workspace';

/**
 * `mw password set|change|status` (the password service's API; tokens from `../auth`, the local
 * stack's dev signing key, or MW_TOKEN). Passwords are read from the terminal without echo, or from
 * stdin when it is not a terminal — never from the command line, where `ps` and shell history see
 * them.
 *
 * Local development keys live under `.mw/keys/` (mode 0600): one X25519 key pair per local NT4
 * connector whose public half the password service seals to (the NT4 connector needs the private
 * half); the token signing key is `.mw/auth/` (apps/mw/src/auth.ts). Production uses
 * the IdP's tokens (`MW_TOKEN`) and keys from Kubernetes secrets instead.
 */
const KEY_DIR = join(DATA_DIR, 'keys');

function loadOrCreate<T>(file: string, create: () => T): T {
  const path = join(KEY_DIR, file);
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as T;
  mkdirSync(KEY_DIR, { recursive: true, mode: 0o700 });
  const value = create();
  writeFileSync(path, JSON.stringify(value, null, 2), { mode: 0o600 });
  chmodSync(path, 0o600);
  return value;
}

/** The local NT4 connector's password key pair (`.mw/keys/password-<connector>.json`). */
export function devPasswordKey(connector: string): RecipientKeyPair {
  return loadOrCreate(`password-${connector}.json`, () => generateRecipientKeyPair(`${connector}-dev-1`));
}

/** What the local stack's password service needs beyond the common settings (see services.ts). */
export function passwordServiceDevEnv(stack: Record<string, string>): Record<string, string> {
  const domain = (stack['MW_SAMBA_DOMAIN'] ?? 'CONTOSO').toUpperCase();
  const connector = `nt4-${domain.toLowerCase()}`;
  const key = devPasswordKey(connector);
  return {
    MW_AUTH_PUBLIC_KEYS: devPublicKey(),
    MW_PASSWORD_CONNECTORS: JSON.stringify([{ connector, domain, kid: key.kid, publicKeyPem: key.publicKeyPem }]),
  };
}

async function bearer(roles: Role[]): Promise<string> {
  const given = process.env['MW_TOKEN'];
  if (given) return given;
  return devToken(roles, process.env['USER'] ?? 'operator', 600);
}

const baseUrl = () => process.env['MW_PASSWORD_URL'] ?? urls.password;

async function call<T>(method: 'GET' | 'POST', path: string, token: string, body?: unknown): Promise<T> {
  const url = `${baseUrl()}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new Error(`cannot reach ${url}: ${(error as Error).message} (is the stack up? npx mw stack status)`);
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  // Problem details: say what and why; the service never puts a password in them.
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${String(json?.['title'] ?? '')}: ${String(json?.['detail'] ?? text)}`);
  return json as T;
}

// ------------------------------------------------------------------ reading secrets

let stdinLines: Promise<string[]> | undefined;

function readAllStdin(): Promise<string[]> {
  stdinLines ??= new Promise((resolve, reject) => {
    let data = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d: string) => (data += d));
    process.stdin.on('end', () => resolve(data.split(/\r?\n/)));
    process.stdin.on('error', reject);
  });
  return stdinLines;
}

let stdinIndex = 0;

/** One secret: typed at the terminal without echo, or the next line of stdin. */
export async function readSecret(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const lines = await readAllStdin();
    const line = lines[stdinIndex++];
    if (line === undefined || line === '') throw new Error(`${prompt.replace(/:\s*$/, '')}: expected one more line on stdin`);
    return line;
  }
  const stdin = process.stdin;
  // Echo off BEFORE the prompt appears: whatever is typed (or pasted) after it must not show.
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  process.stderr.write(prompt);
  return new Promise((resolve) => {
    let value = '';
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          stdin.setRawMode(false);
          process.stderr.write('\n');
          process.exit(130);
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function newPasswordTwice(): Promise<string> {
  const first = await readSecret('New password: ');
  if (process.stdin.isTTY && (await readSecret('New password again: ')) !== first) throw new Error('the two entries differ; nothing was sent');
  return first;
}

// ------------------------------------------------------------------ output

interface OperationView {
  operationId: string;
  op: string;
  status: string;
  mvObjectId: string | null;
  requestedBy: string;
  requestedAt: string;
  targets: { connector: string; domain: string; accountName: string; anchor: string; result: string; message: string | null; expiresAt: string; completedAt: string | null }[];
}

function show(op: OperationView, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(op, null, 2));
    return;
  }
  console.log(`operation ${op.operationId}: ${op.op} ${op.status}${op.mvObjectId ? ` (person ${op.mvObjectId})` : ''}, requested by ${op.requestedBy} at ${op.requestedAt}`);
  for (const t of op.targets) {
    console.log(`  ${t.domain}\\${t.accountName} (${t.connector} ${t.anchor}): ${t.result}${t.message ? ` — ${t.message}` : ''}`);
  }
}

async function finish(op: OperationView, opts: { wait?: boolean; json?: boolean }, token: string): Promise<void> {
  let current = op;
  if (opts.wait) {
    const deadline = Date.now() + 10 * 60_000;
    while (current.status === 'pending' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      current = await call<OperationView>('GET', `/api/v1/operations/${op.operationId}`, token);
    }
  }
  show(current, opts.json ?? false);
  if (current.status === 'failed' || current.status === 'partially-succeeded') process.exitCode = 2;
}

function parseTarget(value: string, previous: { connector: string; anchor: string }[] = []) {
  const i = value.indexOf('/');
  if (i <= 0 || i === value.length - 1) throw new Error(`--target '${value}': expected <connector>/<anchor>, e.g. nt4-contoso/S-1-5-21-…-1001`);
  return [...previous, { connector: value.slice(0, i), anchor: value.slice(i + 1) }];
}

export function register(program: Command): void {
  const password = program
    .command('password')
    .description('set and change NT4 passwords through the password service (password read without echo, or from stdin)');

  password
    .command('set <mvObjectId>')
    .description('admin reset of a person’s NT4 accounts (role password-set)')
    .option('--target <connector/anchor>', 'only this account (repeatable); default: every NT4 account of the person', parseTarget)
    .option('--force-change', 'the user must change the password at next logon')
    .option('--unlock', 'clear a lockout')
    .option('--wait', 'wait until every target has an outcome')
    .option('--json', 'print the operation as JSON')
    .action(async (mvObjectId: string, opts: { target?: { connector: string; anchor: string }[]; forceChange?: boolean; unlock?: boolean; wait?: boolean; json?: boolean }) => {
      const newPassword = await newPasswordTwice();
      const token = await bearer(['password-set']);
      const op = await call<OperationView>('POST', `/api/v1/persons/${encodeURIComponent(mvObjectId)}/password`, token, {
        newPassword,
        ...(opts.target ? { targets: opts.target } : {}),
        forceChangeAtNextLogon: opts.forceChange ?? false,
        unlock: opts.unlock ?? false,
      });
      await finish(op, opts, token);
    });

  password
    .command('change <connector> <anchor>')
    .description('change one account’s password: old password, then new (any valid token)')
    .option('--wait', 'wait for the outcome')
    .option('--json', 'print the operation as JSON')
    .action(async (connector: string, anchor: string, opts: { wait?: boolean; json?: boolean }) => {
      const oldPassword = await readSecret('Old password: ');
      const newPassword = await newPasswordTwice();
      const token = await bearer([]);
      const op = await call<OperationView>('POST', `/api/v1/accounts/${encodeURIComponent(connector)}/${encodeURIComponent(anchor)}/password/change`, token, { oldPassword, newPassword });
      await finish(op, opts, token);
    });

  password
    .command('accounts <mvObjectId>')
    .description('the NT4 accounts of a person the password service knows (what --target may name)')
    .option('--json', 'print as JSON')
    .action(async (mvObjectId: string, opts: { json?: boolean }) => {
      const token = await bearer(['password-set']);
      const row = await call<{ mvObjectId: string; objectType: string; deleted: boolean; accounts: { connector: string; anchor: string; domain: string; accountName: string; configured: boolean }[] }>(
        'GET',
        `/api/v1/persons/${encodeURIComponent(mvObjectId)}/accounts`,
        token,
      );
      if (opts.json) return console.log(JSON.stringify(row, null, 2));
      console.log(`${row.objectType} ${row.mvObjectId}${row.deleted ? ' (deleted)' : ''}: ${row.accounts.length} NT4 account(s)`);
      for (const a of row.accounts) console.log(`  --target ${a.connector}/${a.anchor}   ${a.domain}\\${a.accountName}${a.configured ? '' : '   (connector not configured: no key)'}`);
    });

  password
    .command('history')
    .description('the audit trail, newest first: who set or changed which password, when, with what result (role password-set)')
    .option('--person <mvObjectId>', 'operations on this person')
    .option('--account <connector/anchor>', 'operations on this account')
    .option('--by <subject>', 'operations requested by this token subject')
    .option('--limit <n>', 'at most n operations', '50')
    .option('--json', 'print as JSON')
    .action(async (opts: { person?: string; account?: string; by?: string; limit: string; json?: boolean }) => {
      const query = new URLSearchParams({ limit: opts.limit });
      if (opts.person) query.set('mvObjectId', opts.person);
      if (opts.by) query.set('requestedBy', opts.by);
      if (opts.account) {
        const [t] = parseTarget(opts.account);
        query.set('connector', t!.connector);
        query.set('anchor', t!.anchor);
      }
      const token = await bearer(['password-set']);
      const { operations } = await call<{ operations: OperationView[] }>('GET', `/api/v1/operations?${query}`, token);
      if (opts.json) return console.log(JSON.stringify(operations, null, 2));
      if (operations.length === 0) console.log('no operations');
      for (const op of operations) show(op, false);
    });

  password
    .command('status <operationId>')
    .description('an operation and the outcome of each target (MIIS result vocabulary)')
    .option('--wait', 'wait until every target has an outcome')
    .option('--json', 'print the operation as JSON')
    .action(async (operationId: string, opts: { wait?: boolean; json?: boolean }) => {
      const token = await bearer(['password-set']);
      await finish(await call<OperationView>('GET', `/api/v1/operations/${encodeURIComponent(operationId)}`, token), opts, token);
    });
}

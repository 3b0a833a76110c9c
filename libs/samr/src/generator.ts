/**
 * Thin wrapper over bridge/generate_domain.py: bulk-loads (and removes) generated users and
 * global groups on a Samba classic PDC from the same machine (server side: it needs the server's
 * smb.conf and the nss_wrapper environment file). See the script's header for how it works.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface GeneratorServer {
  /** The server smb.conf (MW_SAMBA_SERVER_CONF). */
  readonly serverConf: string;
  /** The nss_wrapper environment file (MW_SAMBA_NSS_ENV). */
  readonly nssEnv: string;
  readonly pythonPath?: string;
  readonly scriptPath?: string;
  readonly timeoutMs?: number;
}

export interface GenerateDomainOptions extends GeneratorServer {
  /** 3-12 characters [a-z][a-z0-9]*: every name starts with it; cleanup removes by it. */
  readonly prefix: string;
  readonly users: number;
  readonly groups?: number;
  readonly membersPerGroup?: number;
  /** User i gets RID ridBase + i, groups follow; default: the passdb's RID counter. */
  readonly ridBase?: number;
  /** `{i}`, `{rid}`, `{name}` are replaced; default: a random password nobody knows. */
  readonly passwordTemplate?: string;
  readonly disabledEvery?: number;
  /** Write {domainSid, users, groups} (names, RIDs, SIDs; no passwords) here. */
  readonly manifest?: string;
}

export interface GenerateDomainResult {
  readonly prefix: string;
  readonly domainSid: string;
  readonly users: number;
  readonly groups: number;
  readonly memberships: number;
  readonly userRids: number[];
  readonly groupRids: number[];
  readonly ridCounterBumped: number;
  readonly seconds: { unixFiles: number; passdbUsers: number; passdbGroups: number; total: number };
  readonly usersPerSecond: number | null;
}

export interface CleanupResult {
  readonly prefix: string;
  readonly usersRemoved: number;
  readonly groupsRemoved: number;
  readonly unixUsersRemoved: number;
  readonly unixGroupsRemoved: number;
  readonly seconds: number;
}

export function defaultGeneratorPath(): string {
  const candidates = [resolve(__dirname, '..', 'bridge', 'generate_domain.py')];
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    candidates.push(join(dir, 'libs', 'samr', 'bridge', 'generate_domain.py'));
    dir = dirname(dir);
  }
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

function run<T>(server: GeneratorServer, args: string[]): Promise<T> {
  const script = server.scriptPath ?? defaultGeneratorPath();
  const argv = [script, ...args, '--server-conf', server.serverConf, '--nss-env', server.nssEnv];
  return new Promise<T>((resolvePromise, reject) => {
    execFile(
      server.pythonPath ?? '/usr/bin/python3',
      argv,
      { timeout: server.timeoutMs ?? 30 * 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`generate_domain.py ${args[0]} failed: ${stderr.trim() || error.message}`, { cause: error }));
          return;
        }
        try {
          resolvePromise(JSON.parse(stdout.trim().split('\n').pop() ?? '') as T);
        } catch (e) {
          reject(new Error(`generate_domain.py ${args[0]} printed no summary: ${stdout.slice(0, 200)}`, { cause: e }));
        }
      },
    );
  });
}

export function generateDomain(options: GenerateDomainOptions): Promise<GenerateDomainResult> {
  const args = ['generate', '--prefix', options.prefix, '--users', String(options.users)];
  if (options.groups !== undefined) args.push('--groups', String(options.groups));
  if (options.membersPerGroup !== undefined) args.push('--members-per-group', String(options.membersPerGroup));
  if (options.ridBase !== undefined) args.push('--rid-base', String(options.ridBase));
  if (options.passwordTemplate !== undefined) args.push('--password-template', options.passwordTemplate);
  if (options.disabledEvery !== undefined) args.push('--disabled-every', String(options.disabledEvery));
  if (options.manifest !== undefined) args.push('--manifest', options.manifest);
  return run<GenerateDomainResult>(options, args);
}

export function cleanupGeneratedDomain(options: GeneratorServer & { readonly prefix: string }): Promise<CleanupResult> {
  return run<CleanupResult>(options, ['cleanup', '--prefix', options.prefix]);
}

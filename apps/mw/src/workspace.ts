import { execFileSync, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

/** The repository root: apps/mw/src compiles to dist/apps/mw/src. */
export const ROOT = resolve(__dirname, '..', '..', '..', '..');
export const STACK_SCRIPT = join(ROOT, 'deploy', 'local', 'stack.sh');
export const DATA_DIR = process.env['MW_DATA_DIR'] ?? join(ROOT, '.mw');

/** Runs deploy/local/stack.sh with the terminal attached; returns its exit code. */
export function stackScript(args: string[]): number {
  const r = spawnSync('bash', [STACK_SCRIPT, ...args], { stdio: 'inherit', cwd: ROOT });
  return r.status ?? 1;
}

/** The variables `stack.sh env` exports (ports, URLs, credentials of the local stack). */
export function stackEnv(): Record<string, string> {
  const out = execFileSync('bash', [STACK_SCRIPT, 'env'], { cwd: ROOT, encoding: 'utf8' });
  const env: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]!] = unquote(m[2]!);
  }
  return env;
}

function unquote(v: string): string {
  if (v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1).replace(/'\\''/g, "'");
  return v;
}

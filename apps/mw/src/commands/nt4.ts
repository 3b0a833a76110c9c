import type { Command } from 'commander';
import { api, urls, waitFor } from '../api';

/**
 * `mw nt4 …`: the NT4 connector of one domain — runs (full import, the Export step), run history,
 * the domain's operation lease. One connector instance serves one domain; `--url` (or
 * `MW_NT4_URL_<DOMAIN>`) reaches the instance of another domain than the local default.
 */

interface RunView {
  id: string;
  partition: string;
  step: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  counters: unknown;
  deletesWithheld: number;
  message: string | null;
}

interface LeaseView {
  key: string;
  holder: { purpose: string; holder: string; since: string } | null;
  waiting: number;
  recent: { purpose: string; holder: string; requestedAt: string; acquiredAt: string; releasedAt: string | null; waitedMs: number }[];
}

export function nt4Url(domain?: string, url?: string): string {
  if (url) return url.replace(/\/$/, '');
  const fromEnv = domain ? process.env[`MW_NT4_URL_${domain.toUpperCase()}`] : undefined;
  return (fromEnv ?? urls.nt4).replace(/\/$/, '');
}

/** The domain the instance serves, when none was named. */
async function servedDomain(base: string): Promise<string> {
  const { domain } = await api<{ domain: string }>('GET', `${base}/api/v1/password-keys`);
  return domain;
}

/** Starts a step on the domain and, for a full import, waits for its record. */
export async function runNt4(step: string, domain: string | undefined, url?: string): Promise<unknown> {
  if (step !== 'full-import' && step !== 'export') throw new Error(`NT4 steps: full-import, export (the SAM keeps no change log); got ${step}`);
  const base = nt4Url(domain, url);
  const partition = (domain ?? (await servedDomain(base))).toUpperCase();
  const started = await api<{ runId?: string }>('POST', `${base}/api/v1/runs`, { step, partition });
  if (step === 'export' || !started.runId) return started;
  return waitFor(
    `the NT4 full import of ${partition}`,
    async () => {
      const run = await api<RunView>('GET', `${base}/api/v1/runs/${started.runId}`);
      return run.status === 'running' ? undefined : run;
    },
    30 * 60_000,
  );
}

function printRuns(runs: readonly RunView[]): void {
  for (const r of runs) console.log(`${r.startedAt}  ${r.partition.padEnd(10)} ${r.step.padEnd(13)} ${r.status.padEnd(22)} ${JSON.stringify(r.counters)}${r.message ? `  ${r.message}` : ''}`);
}

function printLease(l: LeaseView): void {
  console.log(`lease ${l.key}: ${l.holder ? `held by ${l.holder.holder} for ${l.holder.purpose} since ${l.holder.since}` : 'free'}; ${l.waiting} waiting`);
  for (const e of l.recent) console.log(`  ${e.acquiredAt} → ${e.releasedAt ?? '(holding)'}  ${e.purpose.padEnd(16)} ${e.holder}  waited ${e.waitedMs} ms`);
}

/** `mw nt4 runs` (also `mw runs --connector nt4`). */
export async function showNt4Runs(opts: { domain?: string; url?: string; json?: boolean }): Promise<void> {
  const r = await api<{ runs: RunView[]; lease: LeaseView }>('GET', `${nt4Url(opts.domain, opts.url)}/api/v1/runs`);
  if (opts.json) return console.log(JSON.stringify(r, null, 2));
  printRuns(r.runs);
  printLease(r.lease);
}

export function register(program: Command): void {
  const nt4 = program.command('nt4').description('the NT4 connector of a domain: runs, run history, the domain lease');
  const common = (c: Command) => c.option('-d, --domain <domain>', 'NT4 domain (default: the one the instance serves)').option('--url <url>', 'the instance serving the domain');

  common(nt4.command('run <step>').description('full-import (waits for the run) or export (retries pending exports), e.g. `mw nt4 run full-import --domain CONTOSO`')).action(
    async (step: string, opts: { domain?: string; url?: string }) => console.log(JSON.stringify(await runNt4(step, opts.domain, opts.url), null, 2)),
  );

  common(nt4.command('runs').description('run history of the domain, newest first, and its lease').option('--json', 'machine-readable')).action(showNt4Runs);

  common(nt4.command('lease').description('who holds the domain now, how many operations wait, the lease log').option('-n, --limit <n>', 'log entries', '20').option('--json', 'machine-readable')).action(
    async (opts: { domain?: string; url?: string; limit: string; json?: boolean }) => {
      const l = await api<LeaseView>('GET', `${nt4Url(opts.domain, opts.url)}/api/v1/lease?limit=${encodeURIComponent(opts.limit)}`);
      if (opts.json) console.log(JSON.stringify(l, null, 2));
      else printLease(l);
    },
  );
}

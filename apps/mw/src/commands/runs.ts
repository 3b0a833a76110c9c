import type { Command } from 'commander';
import { api, urls } from '../api';
import { printJson, table, withExitCodes } from '../output';

interface Run {
  runId: string;
  connector: string;
  partition: string;
  step: string;
  status: string;
  startedAt: string;
  endedAt: string | null;
  counters: Record<string, number>;
  errorCount: number;
}

/** `mw runs [runId]`: run history of every connector and the join engine, from the read model. */
export function register(program: Command): void {
  program
    .command('runs [runId]')
    .description('run history across connectors (newest first); with a run id: its counters and per-object errors')
    .option('-c, --connector <name>', 'one connector')
    .option('-s, --status <status>', 'running, completed, completed-with-errors, failed, held, …')
    .option('--limit <n>', 'how many', '30')
    .option('--json', 'machine-readable')
    .action(
      withExitCodes(async (runId: string | undefined, opts: { connector?: string; status?: string; limit: string; json?: boolean }) => {
        if (runId) {
          const run = await api<Run & { errors: { anchor: string; dn: string; type: string; message: string; firstOccurred: string; retryCount: number }[] }>(
            'GET',
            `${urls.projection}/api/v1/runs/${encodeURIComponent(runId)}`,
          );
          if (opts.json) return printJson(run);
          console.log(`${run.connector}/${run.partition} ${run.step}: ${run.status}  ${run.startedAt} → ${run.endedAt ?? '…'}\n`);
          console.log(table(Object.entries(run.counters).map(([counter, value]) => ({ counter, value })), ['counter', 'value']));
          console.log(`\nerrors (${run.errors.length}):`);
          console.log(table(run.errors, ['type', 'dn', 'message', 'firstOccurred', 'retryCount']));
          return;
        }
        const q = new URLSearchParams({ limit: opts.limit });
        if (opts.connector) q.set('connector', opts.connector);
        if (opts.status) q.set('status', opts.status);
        const { runs } = await api<{ runs: Run[] }>('GET', `${urls.projection}/api/v1/runs?${q}`);
        if (opts.json) return printJson(runs);
        console.log(
          table(
            runs.map((r) => ({
              ...r,
              counters: Object.entries(r.counters)
                .filter(([, v]) => v > 0)
                .map(([k, v]) => `${k}=${v}`)
                .join(' '),
            })),
            ['startedAt', 'connector', 'partition', 'step', 'status', 'errorCount', 'counters', 'runId'],
          ),
        );
      }),
    );
}

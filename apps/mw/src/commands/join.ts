import type { Command } from 'commander';
import { api, urls, waitFor } from '../api';

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

/**
 * Join engine operations (docs/join-engine.md):
 *   mw preview <connector> <anchor>   what synchronizing one CS object would do, nothing committed
 *   mw approve <run>                  release the deletes a run held beyond the delete threshold
 *   mw sync full [connector]          full synchronization under the current rules
 *   mw rules show | reload            the running rules version; re-read the rules file
 *   mw sync errors [connector]        per-object synchronization errors
 */
export function register(program: Command): void {
  program
    .command('preview <connector> <anchor>')
    .description('show what synchronization would do with one CS object (filter, join candidates, projection, flows, exports, provisioning) without committing')
    .option('--json', 'print the whole preview as JSON')
    .action(async (connector: string, anchor: string, options: { json?: boolean }) => {
      const result = await api<{ rulesVersion: string; csObject: unknown; trace: string[]; metaverse: unknown[]; exports: unknown[]; errors: unknown[] }>(
        'GET',
        `${urls.join}/api/v1/preview/${encodeURIComponent(connector)}/${encodeURIComponent(anchor)}`,
      );
      if (options.json) return print(result);
      console.log(`rules ${result.rulesVersion.slice(0, 12)}  ${JSON.stringify(result.csObject)}`);
      for (const line of result.trace) console.log(`  ${line}`);
      if (result.metaverse.length) print({ metaverse: result.metaverse });
      if (result.exports.length) print({ exports: result.exports });
      if (result.errors.length) print({ errors: result.errors });
    });

  // `mw approve <run>` (commands/approve.ts) releases held deletes through the query API, which
  // checks the admins role and forwards to the join engine.

  const sync = program.command('sync').description('join engine synchronization');
  sync
    .command('full [connector]')
    .description('re-evaluate every CS object (of one connector, or all) under the current rules')
    .action(async (connector?: string) => {
      const { runId } = await api<{ runId: string }>('POST', `${urls.join}/api/v1/sync/full`, connector ? { connector } : {});
      print(await waitFor('the full synchronization', async () => {
        const run = await api<{ status: string }>('GET', `${urls.join}/api/v1/sync/runs/${runId}`);
        return run.status === 'running' ? undefined : run;
      }, 3_600_000));
    });
  sync
    .command('held')
    .description('runs with deletes held for approval')
    .action(async () => print(await api('GET', `${urls.join}/api/v1/held-deletes`)));
  sync
    .command('errors [connector]')
    .description('per-object synchronization errors with first occurrence and retry count')
    .action(async (connector?: string) => print(await api('GET', `${urls.join}/api/v1/errors${connector ? `?connector=${encodeURIComponent(connector)}` : ''}`)));

  const rules = program.command('rules').description('synchronization rules of the join engine');
  rules.command('show').description('the rules file and version in force').action(async () => print(await api('GET', `${urls.join}/api/v1/rules`)));
  rules
    .command('reload')
    .description('re-read the rules file; an invalid file is refused with its error and the running rules stay')
    .action(async () => print(await api('POST', `${urls.join}/api/v1/rules/reload`)));
}

import type { Command } from 'commander';
import { api, urls } from '../api';

/**
 * `mw exchange …`: Exchange connector operations that are not in the generic commands — run
 * profiles and the Export step. (`mw connector test exchange` and `mw schema refresh exchange`
 * are in connector.ts and main.ts.)
 */
export function register(program: Command): void {
  const exchange = program.command('exchange').description('Exchange 5.5 connector: run profiles, the Export step');
  exchange
    .command('profiles')
    .description('the configured run profiles (MW_EXCHANGE_RUN_PROFILES) and their schedules')
    .action(async () => {
      console.log(JSON.stringify(await api('GET', `${urls.exchange}/api/v1/runs/profiles`), null, 2));
    });
  exchange
    .command('profile <name>')
    .description('run a profile now and wait for it, e.g. `mw exchange profile nightly -p SiteA`')
    .option('-p, --partition <site>', 'one site only (default: the profile\'s sites)')
    .action(async (name: string, opts: { partition?: string }) => {
      console.log(JSON.stringify(await api('POST', `${urls.exchange}/api/v1/runs/profiles/${encodeURIComponent(name)}`, opts.partition ? { partition: opts.partition } : {}), null, 2));
    });
  exchange
    .command('export')
    .description('the Export run step: retry the pending (refused) exports of a site')
    .requiredOption('-p, --partition <site>', 'site')
    .action(async (opts: { partition: string }) => {
      console.log(JSON.stringify(await api('POST', `${urls.exchange}/api/v1/runs`, { step: 'export', partition: opts.partition }), null, 2));
    });
}

import type { Command } from 'commander';
import { api, urls } from '../api';

/** `mw connector …`: per-connector operations that are not run steps. */
export function register(program: Command): void {
  const connector = program.command('connector').description('connected systems: connection tests');
  connector
    .command('test <connector>')
    .description('check that the connector reaches its system with the configured account, and whether it may write (`mw connector test nt4|exchange`)')
    .action(async (name: string) => {
      const url = { nt4: urls.nt4, exchange: urls.exchange }[name];
      if (!url) throw new Error(`supported today: mw connector test nt4|exchange (got ${name})`);
      console.log(JSON.stringify(await api('GET', `${url}/api/v1/connection`), null, 2));
    });
}

import type { Command } from 'commander';
import { api, urls } from '../api';

/** `mw connector …`: per-connector operations that are not run steps. */
export function register(program: Command): void {
  const connector = program.command('connector').description('connected systems: connection tests');
  connector
    .command('test <connector>')
    .description('check that the connector reaches its system with the configured account (`mw connector test nt4`)')
    .action(async (name: string) => {
      if (name !== 'nt4') throw new Error(`supported today: mw connector test nt4 (got ${name})`);
      console.log(JSON.stringify(await api('GET', `${urls.nt4}/api/v1/connection`), null, 2));
    });
}

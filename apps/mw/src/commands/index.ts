import type { Command } from 'commander';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Command groups live one per file in this folder (`nt4.ts`, `preview.ts`, `password.ts`, …), each
 * exporting `register(program)`. They are loaded in file-name order, so adding a command group is
 * adding a file — no central list to edit.
 */
export interface CommandModule {
  register(program: Command): void;
}

export function registerCommandModules(program: Command): void {
  const files = readdirSync(__dirname)
    .filter((f) => /\.(js|ts)$/.test(f) && !/\.(d|spec|int\.spec)\.ts$/.test(f) && !/^index\./.test(f) && !f.endsWith('.map'))
    .sort();
  for (const file of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(join(__dirname, file)) as Partial<CommandModule>;
    if (typeof mod.register !== 'function') throw new Error(`apps/mw/src/commands/${file} does not export register(program)`);
    mod.register(program);
  }
}

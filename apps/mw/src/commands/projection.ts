import type { Command } from 'commander';
import { api, urls } from '../api';
import { printJson, withExitCodes } from '../output';

interface Checksum {
  schema: string;
  checksum: string;
  rows: Record<string, number>;
}

/** `mw projection checksum|rebuild`: prove the read model is the function of the MV event log. */
export function register(program: Command): void {
  const projection = program.command('projection').description('the read model itself: checksum, rebuild from the MV event stream');
  projection
    .command('checksum')
    .description('checksum of the live read model (MV tables) and the stream positions it reflects')
    .option('--json', 'machine-readable')
    .action(
      withExitCodes(async (opts: { json?: boolean }) => {
        const r = await api<Checksum & { offsets: { topic: string; partition: number; nextOffset: string }[] }>('GET', `${urls.projection}/api/v1/projection/checksum`);
        if (opts.json) return printJson(r);
        console.log(`${r.checksum}  schema ${r.schema}  ${Object.entries(r.rows).map(([t, n]) => `${t}=${n}`).join(' ')}`);
      }),
    );
  projection
    .command('rebuild')
    .description('replay the MV event stream into a new schema, compare, switch over (exit 6 if the old read model had drifted)')
    .option('--json', 'machine-readable')
    .option('--timeout <seconds>', 'how long to wait for the rebuild', '1800')
    .action(
      withExitCodes(async (opts: { json?: boolean; timeout: string }) => {
        const r = await api<{ previousSchema: string; activeSchema: string; previous: Checksum; rebuilt: Checksum; equal: boolean; durationMs: number }>(
          'POST',
          `${urls.projection}/api/v1/projection/rebuild`,
          {},
          { timeoutMs: Number(opts.timeout) * 1000 },
        );
        if (opts.json) printJson(r);
        else {
          console.log(`rebuilt ${Object.entries(r.rebuilt.rows).map(([t, n]) => `${t}=${n}`).join(' ')} into ${r.activeSchema} in ${(r.durationMs / 1000).toFixed(1)} s`);
          console.log(`previous ${r.previous.checksum} (${r.previousSchema})\nrebuilt  ${r.rebuilt.checksum} (${r.activeSchema})`);
          console.log(r.equal ? 'equal: the live read model was the function of the log' : 'DIFFERENT: the previous read model had drifted; the rebuilt one is live now');
        }
        if (!r.equal) process.exit(6);
      }),
    );
}

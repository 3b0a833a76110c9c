import type { Command } from 'commander';
import { api, urls } from '../api';
import { printJson, table, withExitCodes } from '../output';

/** `mw approve [id]`: held deletes (runs whose deletes exceeded the threshold) and their approval. */
export function register(program: Command): void {
  program
    .command('approve [id]')
    .description('without an id: the held deletes waiting for approval; with one: approve it (admins)')
    .option('--json', 'machine-readable')
    .action(
      withExitCodes(async (id: string | undefined, opts: { json?: boolean }) => {
        if (!id) {
          const r = await api<{ heldDeletes: Record<string, unknown>[] }>('GET', `${urls.projection}/api/v1/held-deletes`);
          if (opts.json) return printJson(r.heldDeletes);
          console.log(table(r.heldDeletes, ['id', 'connector', 'partition', 'step', 'deletes', 'startedAt', 'message']));
          return;
        }
        const r = await api<unknown>('POST', `${urls.projection}/api/v1/held-deletes/${encodeURIComponent(id)}/approve`, {});
        if (opts.json) return printJson(r);
        console.log(`approved ${id}`);
      }),
    );
}

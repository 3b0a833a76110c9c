import { ROLES, isRole, type Role } from '@metaweave/auth';
import type { Command } from 'commander';
import { devToken } from '../auth';

const collect = (value: string, previous: string[]) => [...previous, value];

/** `mw token --role browse`: a bearer token signed with the local stack's dev key, for curl. */
export function register(program: Command): void {
  program
    .command('token')
    .description(`print a bearer token for the local stack's APIs (roles: ${ROLES.join(', ')}), e.g. curl -H "Authorization: Bearer $(npx mw token --role browse)"`)
    .option('-r, --role <role>', 'a role, repeatable (default browse)', collect, [])
    .option('--subject <name>', 'who the token names', `mw:${process.env['USER'] ?? 'operator'}`)
    .option('--ttl <seconds>', 'lifetime', '3600')
    .action(async (opts: { role: string[]; subject: string; ttl: string }) => {
      const roles = opts.role.length ? opts.role : ['browse'];
      const bad = roles.filter((r) => !isRole(r));
      if (bad.length) {
        console.error(`mw: unknown role ${bad.join(', ')} (known: ${ROLES.join(', ')})`);
        process.exit(2);
      }
      const ttl = Number(opts.ttl);
      if (!Number.isInteger(ttl) || ttl < 1) {
        console.error(`mw: --ttl must be a positive number of seconds, got ${opts.ttl}`);
        process.exit(2);
      }
      console.log(await devToken(roles as Role[], opts.subject, ttl));
    });
}

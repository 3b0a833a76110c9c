import type { Command } from 'commander';
import { api, urls } from '../api';
import { printJson, table, withExitCodes } from '../output';

interface MvObject {
  id: string;
  objectType: string;
  version: number;
  deleted: boolean;
  attributes: Record<string, unknown[]>;
  connectors: { connector: string; anchor: string; dn: string; state: string }[];
  lineage: { attribute: string; connector: string; anchor: string; flow: string; rulesVersion: string; at: string }[];
  updatedAt: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `mw mv search|show`: the metaverse as the projection service's read model holds it. */
export function register(program: Command): void {
  const mv = program.command('mv').description('the metaverse read model (projection service)');
  mv.command('search [filters...]')
    .description('objects by type and exact attribute values: `mw mv search --type person --attr sid=S-1-5-21-…` (or mail=x@y)')
    .option('-t, --type <type>', 'object type')
    .option('-a, --attr <name=value>', 'attribute filter, repeatable; a SID string also matches a binary SID', collect, [])
    .option('--limit <n>', 'page size (1–1000)', '50')
    .option('--offset <n>', 'objects to skip', '0')
    .option('--sort <field>', 'objectType, id, version or updatedAt', 'objectType')
    .option('--desc', 'newest / highest first')
    .option('--json', 'machine-readable: the objects with their connectors and lineage')
    .action(
      withExitCodes(async (filters: string[], opts: { type?: string; attr: string[]; limit: string; offset: string; sort: string; desc?: boolean; json?: boolean }) => {
        const q = new URLSearchParams({ limit: opts.limit, offset: opts.offset, sort: opts.sort, order: opts.desc ? 'desc' : 'asc' });
        if (opts.type) q.set('type', opts.type);
        for (const f of [...opts.attr, ...filters]) {
          if (f.indexOf('=') < 1) throw new Error(`filter '${f}' is not attribute=value`);
          q.append('attr', f);
        }
        const r = await api<{ count: number; nextOffset: number | null; objects: MvObject[] }>('GET', `${urls.projection}/api/v1/objects?${q}`);
        if (opts.json) return printJson(r.objects);
        console.log(
          table(
            r.objects.map((o) => ({
              id: o.id,
              type: o.objectType,
              v: o.version,
              name: first(o.attributes, ['displayName', 'cn', 'uid', 'ntAccount', 'mail']),
              connectors: o.connectors.map((c) => c.connector).join(','),
            })),
            ['id', 'type', 'v', 'name', 'connectors'],
          ),
        );
        if (r.nextOffset !== null) console.log(`… more: --offset ${r.nextOffset}`);
      }),
    );
  mv.command('show <id>')
    .alias('get')
    .description('one metaverse object: attributes with their lineage (connector, flow, rules version, when), connectors, history')
    .option('--json', 'machine-readable')
    .action(
      withExitCodes(async (id: string, opts: { json?: boolean }) => {
        const o = await api<MvObject & { attributeLineage: Record<string, MvObject['lineage']>; history: { version: number; change: string; occurredAt: string }[] }>(
          'GET',
          `${urls.projection}/api/v1/objects/${encodeURIComponent(id)}`,
        );
        if (opts.json) return printJson(o);
        console.log(`${o.objectType} ${o.id}  version ${o.version}${o.deleted ? '  (deleted)' : ''}\n`);
        console.log(
          table(
            Object.entries(o.attributes).map(([name, values]) => {
              const l = o.attributeLineage[name]?.[0];
              return { attribute: name, values: values.map(show).join('; '), from: l ? `${l.connector} (${l.flow})` : '', rules: l?.rulesVersion ?? '', at: l?.at ?? '' };
            }),
            ['attribute', 'values', 'from', 'rules', 'at'],
          ),
        );
        console.log('\nconnectors:');
        console.log(table(o.connectors, ['connector', 'anchor', 'dn', 'state']));
        console.log('\nhistory:');
        console.log(table(o.history, ['version', 'change', 'occurredAt']));
      }),
    );
}

function show(v: unknown): string {
  if (v && typeof v === 'object') {
    const o = v as { b64?: string; ref?: string };
    if (o.ref) return `→${o.ref}`;
    if (o.b64 !== undefined) return `<${Buffer.from(o.b64, 'base64').length} bytes>`;
  }
  return String(v);
}

function first(attributes: Record<string, unknown[]>, names: string[]): string {
  for (const n of names) if (attributes[n]?.length) return show(attributes[n]![0]);
  return '';
}

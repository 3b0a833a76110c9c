import { z } from 'zod';

/** Input schemas of the query API; the OpenAPI document is generated from them. */

export const UUID = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'expected a UUID');
const NAME = /^[A-Za-z][\w;-]*$/;
const intParam = (min: number, max: number, def: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(def);

export const SEARCH_PARAMS = ['type', 'attr', 'limit', 'offset', 'sort', 'order', 'includeDeleted'] as const;

export const searchQuery = z
  .object({
    type: z.string().regex(/^[A-Za-z][\w-]*$/, 'expected one object type name').optional().describe('metaverse object type, e.g. person'),
    attr: z
      .union([z.string(), z.array(z.string())])
      .transform((v) => (Array.isArray(v) ? v : [v]))
      .pipe(z.array(z.string().regex(/^[A-Za-z][\w;-]*=[\s\S]*$/, 'expected attribute=value')))
      .optional()
      .describe('exact attribute value, repeatable: attr=sid=S-1-5-21-…; a SID string also matches a binary SID'),
    limit: intParam(1, 1000, 50).describe('page size, 1–1000'),
    offset: intParam(0, 10_000_000, 0).describe('objects to skip'),
    sort: z.enum(['objectType', 'id', 'version', 'updatedAt']).default('objectType'),
    order: z.enum(['asc', 'desc']).default('asc'),
    includeDeleted: z.enum(['true', 'false']).default('false'),
  })
  .catchall(z.string({ error: 'an attribute filter is given once' }));

export function attributeFilters(q: z.output<typeof searchQuery>): [string, string][] {
  const out: [string, string][] = [];
  for (const a of q.attr ?? []) {
    const i = a.indexOf('=');
    out.push([a.slice(0, i), a.slice(i + 1)]);
  }
  for (const [k, v] of Object.entries(q)) {
    if ((SEARCH_PARAMS as readonly string[]).includes(k)) continue;
    out.push([k, v as string]);
  }
  for (const [name] of out) if (!NAME.test(name)) throw new Error(`'${name}' is not an attribute name`);
  return out;
}

export const runsQuery = z.object({
  connector: z.string().min(1).optional(),
  partition: z.string().min(1).optional(),
  step: z.enum(['full-import', 'delta-import', 'export', 'full-sync', 'delta-sync', 'password']).optional(),
  status: z.enum(['running', 'completed', 'no-change', 'completed-with-errors', 'failed', 'stopped', 'held']).optional(),
  limit: intParam(1, 1000, 50),
  offset: intParam(0, 10_000_000, 0),
});

export const exportsQuery = z.object({
  connector: z.string().min(1).optional(),
  status: z.enum(['pending', 'applied', 'not-reimported', 'failed']).optional().describe('pending = failed and retriable (kept and retried by the Export step)'),
  limit: intParam(1, 1000, 50),
  offset: intParam(0, 10_000_000, 0),
});

export const passwordQuery = z.object({
  connector: z.string().min(1).optional(),
  account: z.string().min(1).optional(),
  operationId: UUID.optional(),
  limit: intParam(1, 1000, 50),
  offset: intParam(0, 10_000_000, 0),
});

export const startRunBody = z
  .object({
    connector: z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a connector name'),
    partition: z.string().min(1),
    step: z.enum(['full-import', 'delta-import', 'export']),
  })
  .strict();

export const fullSyncBody = z.object({ connector: z.string().min(1).optional() }).strict();

const connectorName = z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a connector name');

/** Explicit connector (MIIS Joiner): link a connector object to a metaverse object by hand. */
export const joinBody = z.object({ connector: connectorName, anchor: z.string().min(1), mvObjectId: UUID }).strict();

/** Disconnect a connector object; `explicit` makes it an explicit disconnector (no rule re-joins it). */
export const disconnectBody = z.object({ connector: connectorName, anchor: z.string().min(1), explicit: z.boolean().default(true) }).strict();

import { Controller, Get, Param, Query } from '@nestjs/common';
import { Roles } from '@metaweave/auth';
import { sidFromString } from '@metaweave/samr';
import { DataSource } from 'typeorm';
import { ActiveSchema } from '../read-model/active-schema';
import { parse, problem } from './problem';
import { attributeFilters, searchQuery, UUID } from './schemas';

const SORT: Record<string, string> = { objectType: 'object_type', id: 'id', version: 'version', updatedAt: 'updated_at' };

/** The forms a filter value may match: as given, as a number, a boolean, a reference, and a SID string as the binary SID. */
export function candidateValues(value: string): unknown[] {
  const out: unknown[] = [value];
  if (/^-?\d+(\.\d+)?$/.test(value) && Number.isFinite(Number(value))) out.push(Number(value));
  if (value === 'true' || value === 'false') out.push(value === 'true');
  if (UUID.safeParse(value).success) out.push({ ref: value });
  if (/^S-1-/.test(value)) {
    try {
      out.push({ b64: sidFromString(value).toString('base64') });
    } catch {
      /* not a valid SID: only the text matches */
    }
  }
  if (value.startsWith('b64:')) out.push({ b64: value.slice(4) });
  return out;
}

/** Metaverse search and one MV object with its connectors, per-attribute lineage and history. */
@Controller('api/v1/objects')
export class ObjectsController {
  constructor(
    private readonly db: DataSource,
    private readonly active: ActiveSchema,
  ) {}

  @Get()
  @Roles('browse')
  async search(@Query() raw: Record<string, unknown>) {
    const q = parse(searchQuery, raw, 'search parameters');
    let filters: [string, string][];
    try {
      filters = attributeFilters(q);
    } catch (e) {
      throw problem(400, (e as Error).message);
    }
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.includeDeleted !== 'true') where.push('NOT deleted');
    if (q.type !== undefined) {
      params.push(q.type);
      where.push(`object_type = $${params.length}`);
    }
    for (const [name, value] of filters) {
      const alternatives = candidateValues(value).map((v) => {
        params.push(JSON.stringify({ [name]: [v] }));
        return `attributes @> $${params.length}::jsonb`;
      });
      where.push(`(${alternatives.join(' OR ')})`);
    }
    params.push(q.limit, q.offset);
    const order = SORT[q.sort]!;
    const dir = q.order === 'desc' ? 'DESC' : 'ASC';
    const rows = await this.db.query(
      `SELECT * FROM ${this.active.table('mv_object')} ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
       ORDER BY ${order} ${dir}${order === 'id' ? '' : `, id ${dir}`} LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return {
      count: rows.length,
      offset: q.offset,
      limit: q.limit,
      nextOffset: rows.length === q.limit ? q.offset + q.limit : null,
      objects: rows.map(toDto),
    };
  }

  @Get(':id')
  @Roles('browse')
  async get(@Param('id') id: string) {
    if (!UUID.safeParse(id).success) throw problem(400, `'${id}' is not a metaverse object id (a UUID)`);
    const rows = await this.db.query(`SELECT * FROM ${this.active.table('mv_object')} WHERE id = $1`, [id]);
    if (rows.length === 0) throw problem(404, `no metaverse object ${id}`);
    const history = await this.db.query(
      `SELECT event_id, version, change, correlation_id, occurred_at FROM ${this.active.table('mv_object_event')} WHERE mv_object_id = $1 ORDER BY version`,
      [id],
    );
    const dto = toDto(rows[0]);
    const lineage: Record<string, unknown[]> = {};
    for (const l of dto.lineage as { attribute: string }[]) (lineage[l.attribute] ??= []).push(l);
    return {
      ...dto,
      attributeLineage: lineage,
      history: history.map((h: Record<string, unknown>) => ({ eventId: h['event_id'], version: h['version'], change: h['change'], correlationId: h['correlation_id'], occurredAt: h['occurred_at'] })),
    };
  }
}

/** Which metaverse object a connector's object is joined to (MIIS: the connector's "metaverse object"). */
@Controller('api/v1/connectors')
export class ConnectorLinksController {
  constructor(
    private readonly db: DataSource,
    private readonly active: ActiveSchema,
  ) {}

  @Get(':connector/objects/:anchor')
  @Roles('browse')
  async link(@Param('connector') connector: string, @Param('anchor') anchor: string) {
    const rows = await this.db.query(
      `SELECT o.* , c.dn AS link_dn, c.state AS link_state FROM ${this.active.table('mv_connector')} c JOIN ${this.active.table('mv_object')} o ON o.id = c.mv_object_id
       WHERE c.connector = $1 AND c.anchor = $2`,
      [connector, anchor],
    );
    if (rows.length === 0) throw problem(404, `no metaverse object is joined to ${connector} object '${anchor}' (a disconnector, or not imported)`);
    return { connector, anchor, dn: rows[0].link_dn, state: rows[0].link_state, mvObject: toDto(rows[0]) };
  }
}

export function toDto(r: Record<string, unknown>) {
  return {
    id: r['id'] as string,
    objectType: r['object_type'] as string,
    version: r['version'] as number,
    deleted: r['deleted'] as boolean,
    attributes: r['attributes'],
    connectors: r['connectors'],
    lineage: r['lineage'],
    rulesVersion: r['rules_version'],
    reason: r['reason'],
    updatedAt: r['updated_at'],
  };
}

import { BadRequestException, Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import { DataSource } from 'typeorm';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESERVED = new Set(['type', 'limit', 'includeDeleted']);

/** Metaverse search over the read model. Attribute filters are exact matches: `?type=person&mail=x`. */
@Controller('api/v1/objects')
export class ObjectsController {
  constructor(private readonly db: DataSource) {}

  @Get()
  async search(@Query() query: Record<string, string | string[]>) {
    const limitRaw = query['limit'] ?? '50';
    const limit = Number(limitRaw);
    if (typeof limitRaw !== 'string' || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new BadRequestException(`limit must be an integer between 1 and 1000, got '${String(limitRaw)}'`);
    }
    const where: string[] = [];
    const params: unknown[] = [];
    if (query['includeDeleted'] !== 'true') where.push('NOT deleted');
    if (query['type'] !== undefined) {
      if (typeof query['type'] !== 'string' || !/^[A-Za-z][\w-]*$/.test(query['type'])) throw new BadRequestException(`type must be one object type name`);
      params.push(query['type']);
      where.push(`object_type = $${params.length}`);
    }
    for (const [name, value] of Object.entries(query)) {
      if (RESERVED.has(name)) continue;
      if (!/^[A-Za-z][\w;-]*$/.test(name)) throw new BadRequestException(`'${name}' is not an attribute name`);
      if (typeof value !== 'string') throw new BadRequestException(`attribute filter '${name}' given more than once`);
      params.push(JSON.stringify({ [name]: [value] }));
      where.push(`attributes @> $${params.length}::jsonb`);
    }
    params.push(limit);
    const rows = await this.db.query(
      `SELECT * FROM mv_object ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY object_type, id LIMIT $${params.length}`,
      params,
    );
    return { count: rows.length, objects: rows.map(toDto) };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    if (!UUID.test(id)) throw new BadRequestException(`'${id}' is not a metaverse object id (a UUID)`);
    const rows = await this.db.query(`SELECT * FROM mv_object WHERE id = $1`, [id]);
    if (rows.length === 0) throw new NotFoundException(`no metaverse object ${id}`);
    const history = await this.db.query(
      `SELECT event_id, version, change, correlation_id, occurred_at FROM mv_object_event WHERE mv_object_id = $1 ORDER BY version`,
      [id],
    );
    return { ...toDto(rows[0]), history: history.map((h: Record<string, unknown>) => ({ eventId: h['event_id'], version: h['version'], change: h['change'], correlationId: h['correlation_id'], occurredAt: h['occurred_at'] })) };
  }
}

function toDto(r: Record<string, unknown>) {
  return {
    id: r['id'],
    objectType: r['object_type'],
    version: r['version'],
    deleted: r['deleted'],
    attributes: r['attributes'],
    connectors: r['connectors'],
    rulesVersion: r['rules_version'],
    updatedAt: r['updated_at'],
  };
}

import { Controller, Get } from '@nestjs/common';
import { Public, ROLES } from '@metaweave/auth';
import { z } from 'zod';
import { disconnectBody, exportsQuery, fullSyncBody, joinBody, passwordQuery, runsQuery, searchQuery, startRunBody } from './schemas';

type Op = { summary: string; role: string; query?: z.ZodObject; body?: z.ZodType; params?: string[]; ok?: number };

const OPS: Record<string, Record<'get' | 'post', Op | undefined>> = {
  '/api/v1/objects': { get: { summary: 'metaverse search: type, attribute filters (attr=name=value or name=value), paging, sort', role: 'browse', query: searchQuery }, post: undefined },
  '/api/v1/objects/{id}': { get: { summary: 'one metaverse object with its connectors, per-attribute lineage and version history', role: 'browse', params: ['id'] }, post: undefined },
  '/api/v1/connectors/{connector}/objects/{anchor}': { get: { summary: 'the metaverse object a connector object is joined to', role: 'browse', params: ['connector', 'anchor'] }, post: undefined },
  '/api/v1/runs': {
    get: { summary: 'run history of every connector and the join engine, newest first', role: 'browse', query: runsQuery },
    post: { summary: 'start a run step on a connector (forwarded to its API)', role: 'operators', body: startRunBody, ok: 202 },
  },
  '/api/v1/runs/{runId}': { get: { summary: 'one run with its counters and per-object errors', role: 'browse', params: ['runId'] }, post: undefined },
  '/api/v1/held-deletes': { get: { summary: 'runs whose deletes wait for approval', role: 'browse' }, post: undefined },
  '/api/v1/held-deletes/{id}/approve': { get: undefined, post: { summary: 'approve held deletes (forwarded to the join engine)', role: 'admins', params: ['id'] } },
  '/api/v1/preview/{connector}/{anchor}': { get: { summary: 'preview the synchronization of one connector object (forwarded to the join engine)', role: 'browse', params: ['connector', 'anchor'] }, post: undefined },
  '/api/v1/joins': { get: undefined, post: { summary: 'explicit connector: join a connector object to a metaverse object (forwarded to the join engine)', role: 'joiners', body: joinBody } },
  '/api/v1/disconnects': { get: undefined, post: { summary: 'disconnect a connector object, explicit disconnector by default (forwarded to the join engine)', role: 'joiners', body: disconnectBody } },
  '/api/v1/sync/full': { get: undefined, post: { summary: 'full synchronization (forwarded to the join engine)', role: 'operators', body: fullSyncBody } },
  '/api/v1/exports': { get: { summary: 'export outcomes; status=pending lists the refused exports kept for retry', role: 'browse', query: exportsQuery }, post: undefined },
  '/api/v1/password-operations': { get: { summary: 'password operation outcomes (never a password)', role: 'browse or password-set', query: passwordQuery }, post: undefined },
  '/api/v1/projection/checksum': { get: { summary: 'checksum of the read model (MV tables) and its stored positions', role: 'browse' }, post: undefined },
  '/api/v1/projection/rebuild': { get: undefined, post: { summary: 'rebuild the read model from the MV event stream into a new schema and switch over', role: 'admins' } },
};

const problemRef = { description: 'problem+json', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };

function operation(op: Op) {
  const parameters: unknown[] = (op.params ?? []).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
  if (op.query) {
    const json = z.toJSONSchema(op.query, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, { description?: string }>; required?: string[] };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      parameters.push({ name, in: 'query', required: (json.required ?? []).includes(name), description: schema.description, schema });
    }
  }
  return {
    summary: op.summary,
    description: `Role: ${op.role} (admins may call everything).`,
    security: [{ bearer: [] }],
    parameters,
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(op.body, { io: 'input', unrepresentable: 'any' }) } } } } : {}),
    responses: {
      [String(op.ok ?? 200)]: { description: 'OK' },
      400: problemRef,
      401: problemRef,
      403: problemRef,
      404: problemRef,
      502: problemRef,
    },
  };
}

/** The OpenAPI 3.1 document of the query API, generated from the same zod schemas that validate the input. */
export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, methods] of Object.entries(OPS)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(methods)) if (op) paths[path]![method] = operation(op);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Metaweave query API (projection service)', version: '1.0.0', description: `Bearer JWT; roles: ${ROLES.join(', ')}.` },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail'],
          properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, instance: { type: 'string' }, errors: { type: 'array', items: { type: 'string' } } },
        },
      },
    },
  };
}

@Controller('api/v1')
export class OpenApiController {
  private readonly doc = openApiDocument();

  @Get('openapi.json')
  @Public()
  document() {
    return this.doc;
  }
}

import { Controller, Get } from '@nestjs/common';
import { Public } from '@metaweave/auth';
import { PASSWORD_RESULTS } from '@metaweave/contracts';
import { z } from 'zod';
import { changePasswordBodySchema, setPasswordBodySchema } from './schemas';

const json = (schema: object) => ({ 'application/json': { schema } });
const problemRef = { $ref: '#/components/schemas/Problem' };
const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: DESCRIPTIONS[s] ?? `HTTP ${s}`, content: { 'application/problem+json': { schema: problemRef } } }]));
const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,200}$' },
  description: 'A retry with the same key (same requester) returns the first operation (header Idempotent-Replayed: true) and sends nothing again; the same key for a different request is refused (422).',
};
const DESCRIPTIONS: Record<number, string> = {
  400: 'malformed request: not JSON, invalid body, or an id of the wrong form',
  401: 'no, malformed, expired or foreign bearer token',
  403: 'the token lacks the role',
  404: 'unknown person, account or operation',
  422: 'the request cannot be routed: no NT4 account, a target not of this person, a connector without a configured key',
};

/** The OpenAPI 3.1 document of the password API; request schemas come from the same zod schemas that validate. */
export function openApiDocument(): object {
  const input = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input' });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Metaweave password service',
      version: '1',
      description:
        'Set (admin reset) and change passwords of NT4 accounts of metaverse persons. Each request returns an operation id at once (202); the password travels sealed to each target connector; poll the operation for per-target outcomes in MIIS result vocabulary.',
    },
    security: [{ bearer: [] }],
    paths: {
      '/api/v1/persons/{mvObjectId}/password': {
        post: {
          summary: 'Set the password of a person’s NT4 accounts (all, or the named targets). Role: password-set.',
          parameters: [{ name: 'mvObjectId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }, IDEMPOTENCY_KEY],
          requestBody: { required: true, content: json(input(setPasswordBodySchema)) },
          responses: { '202': { description: 'accepted: one sealed command per target is on its way', content: json({ $ref: '#/components/schemas/Operation' }) }, ...problems(400, 401, 403, 404, 422) },
        },
      },
      '/api/v1/persons/{mvObjectId}/accounts': {
        get: {
          summary: 'The NT4 accounts the service knows for an MV object (what targets may name); configured = its connector has a key. Role: password-set.',
          parameters: [{ name: 'mvObjectId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: {
            '200': {
              description: 'the routing view of the object',
              content: json({
                type: 'object',
                properties: {
                  mvObjectId: { type: 'string', format: 'uuid' },
                  objectType: { type: 'string' },
                  version: { type: 'integer' },
                  deleted: { type: 'boolean' },
                  accounts: { type: 'array', items: { type: 'object', properties: { connector: { type: 'string' }, anchor: { type: 'string' }, domain: { type: 'string' }, accountName: { type: 'string' }, configured: { type: 'boolean' } } } },
                },
              }),
            },
            ...problems(400, 401, 403, 404),
          },
        },
      },
      '/api/v1/accounts/{connector}/{anchor}/password/change': {
        post: {
          summary: 'Change the password of one NT4 account; the old password is the proof (any valid token).',
          parameters: [
            { name: 'connector', in: 'path', required: true, schema: { type: 'string' }, example: 'nt4-contoso' },
            { name: 'anchor', in: 'path', required: true, schema: { type: 'string' }, description: 'objectSid string', example: 'S-1-5-21-1-2-3-1001' },
            IDEMPOTENCY_KEY,
          ],
          requestBody: { required: true, content: json(input(changePasswordBodySchema)) },
          responses: { '202': { description: 'accepted', content: json({ $ref: '#/components/schemas/Operation' }) }, ...problems(400, 401, 404, 422) },
        },
      },
      '/api/v1/operations': {
        get: {
          summary: 'The audit trail, newest first: operations of a person, of an account (connector and anchor together) or by a requester. Role: password-set.',
          parameters: [
            { name: 'mvObjectId', in: 'query', schema: { type: 'string', format: 'uuid' } },
            { name: 'connector', in: 'query', schema: { type: 'string' } },
            { name: 'anchor', in: 'query', schema: { type: 'string' } },
            { name: 'requestedBy', in: 'query', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
          ],
          responses: {
            '200': { description: 'operations', content: json({ type: 'object', properties: { count: { type: 'integer' }, operations: { type: 'array', items: { $ref: '#/components/schemas/Operation' } } } }) },
            ...problems(400, 401, 403),
          },
        },
      },
      '/api/v1/operations/{id}': {
        get: {
          summary: 'Status of an operation with the outcome of each target. Visible to password-set holders and to its requester.',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: { '200': { description: 'the operation', content: json({ $ref: '#/components/schemas/Operation' }) }, ...problems(400, 401, 404) },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Problem: {
          type: 'object',
          description: 'RFC 9457 problem details',
          required: ['type', 'title', 'status', 'detail'],
          properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, errors: { type: 'array', items: { type: 'string' } } },
        },
        Operation: {
          type: 'object',
          required: ['operationId', 'op', 'status', 'requestedBy', 'requestedAt', 'targets'],
          properties: {
            operationId: { type: 'string', format: 'uuid' },
            op: { enum: ['set', 'change'] },
            status: { enum: ['pending', 'succeeded', 'failed', 'partially-succeeded'] },
            mvObjectId: { type: ['string', 'null'], format: 'uuid' },
            requestedBy: { type: 'string', description: 'token subject' },
            requestedAt: { type: 'string', format: 'date-time' },
            forceChangeAtNextLogon: { type: 'boolean' },
            unlock: { type: 'boolean' },
            targets: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  connector: { type: 'string' },
                  domain: { type: 'string' },
                  anchor: { type: 'string' },
                  accountName: { type: 'string' },
                  commandId: { type: 'string', format: 'uuid' },
                  expiresAt: { type: 'string', format: 'date-time' },
                  result: { enum: ['pending', ...PASSWORD_RESULTS] },
                  message: { type: ['string', 'null'] },
                  completedAt: { type: ['string', 'null'], format: 'date-time' },
                },
              },
            },
          },
        },
      },
    },
  };
}

@Controller('api/v1')
export class OpenApiController {
  private readonly document = openApiDocument();

  @Get('openapi.json')
  @Public()
  get(): object {
    return this.document;
  }
}

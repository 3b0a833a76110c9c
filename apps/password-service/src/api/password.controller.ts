import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { BearerAuthGuard, hasRole, Public, Roles, TOKEN_VERIFIER, TokenRejected, TokenVerifier, type AuthenticatedRequest, type Principal } from '@metaweave/auth';
import { CONFIG, type PasswordServiceConfig } from '../config';
import { Operations, type Accepted, type OperationView } from '../operations/operations';
import { RoutingView } from '../routing/routing-view';
import { PasswordRequestRefused, type RefusalKind } from '../operations/plan';
import { problem } from './problem';
import { changePasswordBodySchema, describeIssues, listOperationsQuerySchema, setPasswordBodySchema, UUID } from './schemas';

const REFUSAL_STATUS: Record<RefusalKind, number> = {
  'unknown-person': 404,
  'unknown-account': 404,
  'person-deleted': 404,
  'not-a-person': 422,
  'no-nt4-account': 422,
  'unknown-target': 422,
  'connector-not-configured': 422,
  'account-not-addressable': 422,
  'idempotency-key-reused': 422,
};

interface Headers {
  setHeader(name: string, value: string): unknown;
}

/** `Idempotency-Key` header: optional; a retry with the same key returns the first request's operation. */
function idempotencyKey(req: AuthenticatedRequest): string | undefined {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (!key || !/^[A-Za-z0-9._:-]{1,200}$/.test(key)) {
    throw problem(400, 'invalid-idempotency-key', 'Bad Request', 'the Idempotency-Key header must be 1 to 200 characters of letters, digits and . _ : -');
  }
  return key;
}

function accepted(res: Headers, result: Accepted): OperationView {
  res.setHeader('location', `/api/v1/operations/${result.view.operationId}`);
  if (result.replayed) res.setHeader('idempotent-replayed', 'true');
  return result.view;
}

/**
 * The password API. Handlers validate, then hand the clear password straight to Operations, which
 * seals it per target; it is never stored, logged or echoed (request bodies are not logged at all).
 *
 * - set (admin reset) needs the `password-set` role (MIISPasswordSet);
 * - change needs any valid token: the old password is the proof, checked by the domain controller;
 * - an operation's status is visible to `password-set` holders and to whoever requested it.
 */
@Controller('api/v1')
@UseGuards(BearerAuthGuard)
export class PasswordController {
  private readonly configured: ReadonlySet<string>;

  constructor(
    private readonly operations: Operations,
    private readonly routing: RoutingView,
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    @Inject(CONFIG) config: PasswordServiceConfig,
  ) {
    this.configured = new Set(config.connectors.map((c) => c.connector));
  }

  /** The NT4 accounts the routing view holds for an MV object (what `targets` may name). */
  @Get('persons/:mvObjectId/accounts')
  @Roles('password-set')
  async accounts(@Param('mvObjectId') mvObjectId: string) {
    if (!UUID.test(mvObjectId)) throw problem(400, 'invalid-person-id', 'Bad Request', `'${mvObjectId.slice(0, 80)}' is not a metaverse object id (a UUID)`);
    const row = await this.routing.get(mvObjectId.toLowerCase());
    if (!row) throw problem(404, 'unknown-person', 'Not Found', `no metaverse person ${mvObjectId} is known to the password service (no MV event for it has been seen)`);
    return { ...row, accounts: row.accounts.map((a) => ({ ...a, configured: this.configured.has(a.connector) })) };
  }

  @Post('persons/:mvObjectId/password')
  @Roles('password-set')
  @HttpCode(202)
  async set(@Param('mvObjectId') mvObjectId: string, @Body() body: unknown, @Req() req: AuthenticatedRequest, @Res({ passthrough: true }) res: Headers): Promise<OperationView> {
    if (!UUID.test(mvObjectId)) throw problem(400, 'invalid-person-id', 'Bad Request', `'${mvObjectId.slice(0, 80)}' is not a metaverse object id (a UUID)`);
    const parsed = setPasswordBodySchema.safeParse(body);
    if (!parsed.success) throw invalidBody(describeIssues(parsed.error, setPasswordBodySchema));
    const key = idempotencyKey(req);
    const { newPassword, targets, forceChangeAtNextLogon, unlock } = parsed.data;
    const result = await refusalsAsProblems(() =>
      this.operations.setPassword(req.principal!.subject, mvObjectId.toLowerCase(), { ...(targets ? { targets } : {}), forceChangeAtNextLogon, unlock }, { newPassword }, key),
    );
    return accepted(res, result);
  }

  @Post('accounts/:connector/:anchor/password/change')
  @Public()
  @HttpCode(202)
  async change(@Param('connector') connector: string, @Param('anchor') anchor: string, @Body() body: unknown, @Req() req: AuthenticatedRequest, @Res({ passthrough: true }) res: Headers): Promise<OperationView> {
    const principal = await this.authenticate(req);
    const parsed = changePasswordBodySchema.safeParse(body);
    if (!parsed.success) throw invalidBody(describeIssues(parsed.error, changePasswordBodySchema));
    const key = idempotencyKey(req);
    const result = await refusalsAsProblems(() => this.operations.changePassword(principal.subject, connector, anchor, parsed.data, key));
    return accepted(res, result);
  }

  /** The audit trail (role password-set): who set or changed which person's or account's password, when, with what result. */
  @Get('operations')
  @Roles('password-set')
  async list(@Query() query: unknown): Promise<{ count: number; operations: OperationView[] }> {
    const parsed = listOperationsQuerySchema.safeParse(query);
    if (!parsed.success) throw problem(400, 'invalid-query', 'Bad Request', `the query is invalid: ${describeIssues(parsed.error, listOperationsQuerySchema).join('; ')}`);
    const q = parsed.data;
    const operations = await this.operations.list({ ...q, ...(q.mvObjectId ? { mvObjectId: q.mvObjectId.toLowerCase() } : {}) });
    return { count: operations.length, operations };
  }

  @Get('operations/:id')
  @Public()
  async status(@Param('id') id: string, @Req() req: AuthenticatedRequest): Promise<OperationView> {
    const principal = await this.authenticate(req);
    if (!UUID.test(id)) throw problem(400, 'invalid-operation-id', 'Bad Request', `'${id.slice(0, 80)}' is not an operation id (a UUID)`);
    const view = await this.operations.get(id.toLowerCase());
    // Someone who may not see an operation learns nothing about it, not even that it exists.
    if (!view || !(hasRole(principal, ['password-set']) || view.requestedBy === principal.subject)) {
      throw problem(404, 'unknown-operation', 'Not Found', `no password operation ${id} that you may see`);
    }
    return view;
  }

  /** Any valid token (no particular role): for change, where the old password is the proof. */
  private async authenticate(req: AuthenticatedRequest): Promise<Principal> {
    const header = req.headers['authorization'];
    try {
      req.principal = await this.verifier.verifyAuthorization(Array.isArray(header) ? header[0] : header);
      return req.principal;
    } catch (error) {
      if (error instanceof TokenRejected) throw problem(401, 'unauthenticated', 'Unauthorized', error.message);
      throw error;
    }
  }
}

function invalidBody(errors: string[]) {
  return problem(400, 'invalid-request-body', 'Bad Request', `the request body is invalid: ${errors.join('; ')}`, errors);
}

async function refusalsAsProblems<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof PasswordRequestRefused) throw problem(REFUSAL_STATUS[error.kind], error.kind, error.kind === 'unknown-person' || error.kind === 'unknown-account' || error.kind === 'person-deleted' ? 'Not Found' : 'Unprocessable Entity', error.message);
    throw error;
  }
}

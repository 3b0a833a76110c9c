import { passwordCommandKey, TOPICS, type Envelope, type Message, type PasswordCommandV1, type SealedSecret } from '@metaweave/contracts';
import type { Nt4Target } from '../config';
import type { Nt4Account, RouteRow } from '../routing/routes';

/** Why a password request is refused before anything is sent; each kind maps to one HTTP status. */
export type RefusalKind =
  | 'unknown-person'
  | 'not-a-person'
  | 'person-deleted'
  | 'no-nt4-account'
  | 'unknown-target'
  | 'unknown-account'
  | 'connector-not-configured'
  | 'account-not-addressable'
  | 'idempotency-key-reused';

export class PasswordRequestRefused extends Error {
  readonly retriable = false;
  constructor(
    readonly kind: RefusalKind,
    message: string,
  ) {
    super(message);
    this.name = 'PasswordRequestRefused';
  }
}

export interface TargetRef {
  readonly connector: string;
  readonly anchor: string;
}

export type PasswordRequest =
  | {
      readonly op: 'set';
      readonly mvObjectId: string;
      /** The routing view's row of the person, if it has one. */
      readonly route: RouteRow | undefined;
      /** Only these accounts (default: every NT4 account of the person). */
      readonly targets?: readonly TargetRef[];
      readonly forceChangeAtNextLogon: boolean;
      readonly unlock: boolean;
    }
  | {
      readonly op: 'change';
      readonly connector: string;
      readonly anchor: string;
      /** The routing view's rows that hold this account (normally one). */
      readonly owners: readonly RouteRow[];
    };

/** The secret part of a request: lives in the request handler only, is sealed per target, never stored. */
export interface PasswordSecretInput {
  readonly newPassword: string;
  readonly oldPassword?: string;
}

export interface PlanContext {
  readonly operationId: string;
  readonly requestedBy: string;
  readonly now: Date;
  readonly commandTtlMs: number;
  readonly connectors: ReadonlyMap<string, Nt4Target>;
  readonly newId: () => string;
  readonly source: string;
  readonly topicPrefix: string;
  /** Seals the secret for one target's connector, bound to that command (libs/secrets sealPassword). */
  readonly seal: (secret: PasswordSecretInput, recipient: Nt4Target, command: Pick<PasswordCommandV1, 'commandId' | 'connector' | 'anchor' | 'op' | 'expiresAt'>) => SealedSecret;
}

/** One target account of an operation as it is stored (no secret). */
export interface PlannedTarget {
  readonly commandId: string;
  readonly connector: string;
  readonly domain: string;
  readonly anchor: string;
  readonly accountName: string;
  readonly expiresAt: string;
}

export interface PlannedOperation {
  readonly operationId: string;
  readonly op: 'set' | 'change';
  readonly mvObjectId: string | null;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly forceChangeAtNextLogon: boolean;
  readonly unlock: boolean;
  readonly targets: readonly PlannedTarget[];
  /** One sealed command per target, for the outbox: topic, key, message. */
  readonly commands: readonly { topic: string; key: string; message: Message<'password.command'> }[];
}

function resolveSetTargets(req: Extract<PasswordRequest, { op: 'set' }>): Nt4Account[] {
  const route = req.route;
  if (!route) throw new PasswordRequestRefused('unknown-person', `no metaverse person ${req.mvObjectId} is known to the password service (no MV event for it has been seen)`);
  if (route.deleted) throw new PasswordRequestRefused('person-deleted', `metaverse object ${req.mvObjectId} has been deleted`);
  if (route.objectType !== 'person') throw new PasswordRequestRefused('not-a-person', `metaverse object ${req.mvObjectId} is a ${route.objectType}, not a person`);
  if (route.accounts.length === 0) throw new PasswordRequestRefused('no-nt4-account', `metaverse person ${req.mvObjectId} has no connected NT4 account`);
  if (!req.targets || req.targets.length === 0) return [...route.accounts];
  const chosen: Nt4Account[] = [];
  const missing: string[] = [];
  for (const t of req.targets) {
    const account = route.accounts.find((a) => a.connector === t.connector && a.anchor === t.anchor);
    if (account) {
      if (!chosen.includes(account)) chosen.push(account);
    } else missing.push(`${t.connector}/${t.anchor}`);
  }
  if (missing.length > 0) {
    const known = route.accounts.map((a) => `${a.connector}/${a.anchor}`).join(', ');
    throw new PasswordRequestRefused('unknown-target', `not an NT4 account of person ${req.mvObjectId}: ${missing.join(', ')} (its accounts: ${known})`);
  }
  return chosen;
}

function resolveChangeTarget(req: Extract<PasswordRequest, { op: 'change' }>): Nt4Account {
  for (const row of req.owners) {
    if (row.deleted) continue;
    const account = row.accounts.find((a) => a.connector === req.connector && a.anchor === req.anchor);
    if (account) return account;
  }
  throw new PasswordRequestRefused('unknown-account', `no NT4 account ${req.connector}/${req.anchor} is connected to a metaverse object the password service knows`);
}

/**
 * Plans a password operation: which accounts, and one sealed `password.command` per account with
 * its own command id (the replay key) and expiry. Pure apart from `seal` and `newId`, which the
 * caller injects. Refuses (PasswordRequestRefused) before anything is planned if any target cannot
 * be addressed, so an operation is never half-sent for a reason known up front.
 */
export function planOperation(req: PasswordRequest, secret: PasswordSecretInput, ctx: PlanContext): PlannedOperation {
  const accounts = req.op === 'set' ? resolveSetTargets(req) : [resolveChangeTarget(req)];
  for (const a of accounts) {
    const target = ctx.connectors.get(a.connector);
    if (!target) {
      throw new PasswordRequestRefused(
        'connector-not-configured',
        `connector '${a.connector}' (account ${a.anchor}) has no public key configured in MW_PASSWORD_CONNECTORS (configured: ${[...ctx.connectors.keys()].join(', ') || 'none'})` +
          (req.op === 'set' ? '; to set the other accounts only, name them in targets' : ''),
      );
    }
    if (!a.accountName) throw new PasswordRequestRefused('account-not-addressable', `account ${a.connector}/${a.anchor} has no DOMAIN\\accountName DN in the metaverse`);
    if (a.domain !== target.domain) {
      throw new PasswordRequestRefused('account-not-addressable', `account ${a.connector}/${a.anchor} is in domain ${a.domain}, but connector '${a.connector}' is configured for ${target.domain}`);
    }
  }
  const forceChangeAtNextLogon = req.op === 'set' ? req.forceChangeAtNextLogon : false;
  const unlock = req.op === 'set' ? req.unlock : false;
  const expiresAt = new Date(ctx.now.getTime() + ctx.commandTtlMs).toISOString();
  const targets: PlannedTarget[] = [];
  const commands: { topic: string; key: string; message: Message<'password.command'> }[] = [];
  for (const a of accounts) {
    const recipient = ctx.connectors.get(a.connector)!;
    const commandId = ctx.newId();
    const bound = { commandId, connector: a.connector, anchor: a.anchor, op: req.op, expiresAt } as const;
    const data: PasswordCommandV1 = {
      ...bound,
      operationId: ctx.operationId,
      domain: recipient.domain,
      accountName: a.accountName,
      forceChangeAtNextLogon,
      unlock,
      requestedBy: ctx.requestedBy,
      sealed: ctx.seal(secret, recipient, bound),
    };
    const envelope: Envelope<'password.command', PasswordCommandV1> = {
      eventId: commandId,
      type: 'password.command',
      schemaVersion: 1,
      occurredAt: ctx.now.toISOString(),
      source: ctx.source,
      correlationId: ctx.operationId,
      causationId: null,
      data,
    };
    targets.push({ commandId, connector: a.connector, domain: recipient.domain, anchor: a.anchor, accountName: a.accountName, expiresAt });
    commands.push({ topic: ctx.topicPrefix + TOPICS.passwordCommands.name, key: passwordCommandKey(a.connector, recipient.domain), message: envelope });
  }
  return {
    operationId: ctx.operationId,
    op: req.op,
    mvObjectId: req.op === 'set' ? req.mvObjectId : null,
    requestedBy: ctx.requestedBy,
    requestedAt: ctx.now.toISOString(),
    forceChangeAtNextLogon,
    unlock,
    targets,
    commands,
  };
}

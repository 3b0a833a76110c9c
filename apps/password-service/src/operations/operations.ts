import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PASSWORD_RESULTS, type PasswordOutcomeV1, type PasswordResult } from '@metaweave/contracts';
import { enqueueOutbox } from '@metaweave/messaging';
import { sealPassword } from '@metaweave/secrets';
import { DataSource } from 'typeorm';
import { CLOCK, CONFIG, SERVICE_NAME, type Nt4Target, type PasswordServiceConfig } from '../config';
import { RoutingView } from '../routing/routing-view';
import { PasswordRequestRefused, planOperation, type PasswordSecretInput, type PlannedOperation, type TargetRef } from './plan';
import { operationStatus, targetView, type OperationStatus, type StoredTarget, type TargetView } from './status';

export interface OperationView {
  readonly operationId: string;
  readonly op: 'set' | 'change';
  readonly status: OperationStatus;
  readonly mvObjectId: string | null;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly forceChangeAtNextLogon: boolean;
  readonly unlock: boolean;
  readonly targets: readonly TargetView[];
}

export interface Accepted {
  readonly view: OperationView;
  /** True when an earlier request with the same idempotency key created the operation. */
  readonly replayed: boolean;
}

/** An outcome that cannot belong to any command this service sent (dead-lettered, not retried). */
export class UnknownCommandOutcome extends Error {
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'UnknownCommandOutcome';
  }
}

/**
 * Password operations: plans them (one sealed command per target account), stores the operation
 * and its targets (never the secret) and enqueues the sealed commands in the outbox in ONE
 * transaction; completes targets from outcome events; reports status.
 */
@Injectable()
export class Operations {
  private readonly connectors: ReadonlyMap<string, Nt4Target>;
  private readonly schema: string;

  constructor(
    @Inject(CONFIG) private readonly config: PasswordServiceConfig,
    private readonly db: DataSource,
    private readonly routing: RoutingView,
    @Inject(CLOCK) private readonly clock: () => Date,
  ) {
    this.connectors = new Map(config.connectors.map((c) => [c.connector, c]));
    this.schema = config.database.schema;
  }

  async setPassword(
    requestedBy: string,
    mvObjectId: string,
    options: { targets?: readonly TargetRef[]; forceChangeAtNextLogon: boolean; unlock: boolean },
    secret: PasswordSecretInput,
    idempotencyKey?: string,
  ): Promise<Accepted> {
    const targets = options.targets ? [...options.targets].map((t) => `${t.connector}/${t.anchor}`).sort().join(',') : '*';
    const fingerprint = `set ${mvObjectId} ${targets} force=${options.forceChangeAtNextLogon} unlock=${options.unlock}`;
    return this.once(requestedBy, idempotencyKey, fingerprint, async () => {
      const route = await this.routing.get(mvObjectId);
      return planOperation({ op: 'set', mvObjectId, route, ...options }, secret, this.context(requestedBy));
    });
  }

  async changePassword(requestedBy: string, connector: string, anchor: string, secret: Required<PasswordSecretInput>, idempotencyKey?: string): Promise<Accepted> {
    return this.once(requestedBy, idempotencyKey, `change ${connector}/${anchor}`, async () => {
      const owners = await this.routing.owners(connector, anchor);
      return planOperation({ op: 'change', connector, anchor, owners }, secret, this.context(requestedBy));
    });
  }

  /**
   * With an idempotency key, a request sent again (a client retrying after a timeout) returns the
   * operation the first one created instead of sending the password again. The key is per
   * requester; reusing it for a different request (person, account, targets, options) is refused.
   * The passwords of the two requests are not compared: they are not kept in any form.
   */
  private async once(requestedBy: string, key: string | undefined, fingerprint: string, plan: () => Promise<PlannedOperation>): Promise<Accepted> {
    if (key === undefined) return { view: await this.persist(await plan()), replayed: false };
    const earlier = await this.byKey(requestedBy, key, fingerprint);
    if (earlier) return { view: earlier, replayed: true };
    try {
      return { view: await this.persist(await plan(), { key, fingerprint }), replayed: false };
    } catch (error) {
      // A concurrent request with the same key committed first.
      const code = (error as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (error as { code?: string }).code;
      if (code !== '23505') throw error;
      const winner = await this.byKey(requestedBy, key, fingerprint);
      if (!winner) throw error;
      return { view: winner, replayed: true };
    }
  }

  private async byKey(requestedBy: string, key: string, fingerprint: string): Promise<OperationView | undefined> {
    const rows: { id: string; request_fingerprint: string }[] = await this.db.query(
      `SELECT id, request_fingerprint FROM password_operation WHERE requested_by = $1 AND idempotency_key = $2`,
      [requestedBy, key],
    );
    const row = rows[0];
    if (!row) return undefined;
    if (row.request_fingerprint !== fingerprint) {
      throw new PasswordRequestRefused('idempotency-key-reused', `idempotency key '${key}' was used for operation ${row.id}, a different request (${row.request_fingerprint}); use a new key for a new request`);
    }
    return this.get(row.id);
  }

  async get(operationId: string): Promise<OperationView | undefined> {
    return (await this.load(`WHERE id = $1`, [operationId], 1))[0];
  }

  /** The audit trail: operations newest first, optionally of one person, one account or one requester. */
  async list(filter: { mvObjectId?: string; connector?: string; anchor?: string; requestedBy?: string; limit: number }): Promise<OperationView[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.mvObjectId) where.push(`mv_object_id = $${params.push(filter.mvObjectId)}`);
    if (filter.requestedBy) where.push(`requested_by = $${params.push(filter.requestedBy)}`);
    if (filter.connector && filter.anchor) {
      where.push(`id IN (SELECT operation_id FROM password_target WHERE connector = $${params.push(filter.connector)} AND anchor = $${params.push(filter.anchor)})`);
    }
    return this.load(where.length ? `WHERE ${where.join(' AND ')}` : '', params, filter.limit);
  }

  private async load(where: string, params: unknown[], limit: number): Promise<OperationView[]> {
    const ops = await this.db.query(`SELECT * FROM password_operation ${where} ORDER BY requested_at DESC, id LIMIT ${Number(limit)}`, params);
    if (ops.length === 0) return [];
    const rows: Record<string, unknown>[] = await this.db.query(`SELECT * FROM password_target WHERE operation_id = ANY($1) ORDER BY connector, anchor`, [ops.map((o: { id: string }) => o.id)]);
    const now = this.clock();
    return ops.map((op: Record<string, unknown>) => {
      const targets = rows.filter((r) => r['operation_id'] === op['id']).map((r) => targetView(storedTarget(r), now, this.config.outcomeGraceMs));
      return {
        operationId: op['id'] as string,
        op: op['op'] as 'set' | 'change',
        status: operationStatus(targets),
        mvObjectId: (op['mv_object_id'] as string | null) ?? null,
        requestedBy: op['requested_by'] as string,
        requestedAt: iso(op['requested_at'])!,
        forceChangeAtNextLogon: op['force_change'] as boolean,
        unlock: op['unlock'] as boolean,
        targets,
      };
    });
  }

  /**
   * Records the outcome of one command. A redelivered outcome changes nothing (first outcome wins).
   * An outcome naming a command this service never sent, or contradicting it, is refused.
   */
  async applyOutcome(outcome: PasswordOutcomeV1): Promise<'applied' | 'duplicate'> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query(`SELECT operation_id, connector, anchor, result FROM password_target WHERE command_id = $1 FOR UPDATE`, [outcome.commandId]);
      const t = rows[0];
      if (!t) throw new UnknownCommandOutcome(`outcome for command ${outcome.commandId} (operation ${outcome.operationId}), which this password service did not send`);
      if (t.operation_id !== outcome.operationId || t.connector !== outcome.connector || t.anchor !== outcome.anchor) {
        throw new UnknownCommandOutcome(`outcome for command ${outcome.commandId} names ${outcome.connector}/${outcome.anchor} in operation ${outcome.operationId}, but the command was sent to ${t.connector}/${t.anchor} in operation ${t.operation_id}`);
      }
      if (t.result !== null) return 'duplicate';
      await tx.query(`UPDATE password_target SET result = $2, message = $3, completed_at = $4 WHERE command_id = $1`, [
        outcome.commandId,
        outcome.result,
        outcome.message,
        outcome.completedAt,
      ]);
      return 'applied';
    });
  }

  private context(requestedBy: string) {
    return {
      operationId: randomUUID(),
      requestedBy,
      now: this.clock(),
      commandTtlMs: this.config.commandTtlMs,
      connectors: this.connectors,
      newId: randomUUID,
      source: SERVICE_NAME,
      topicPrefix: this.config.kafka.topicPrefix,
      seal: (secret: PasswordSecretInput, recipient: Nt4Target, command: Parameters<typeof sealPassword>[2]) =>
        sealPassword(secret.oldPassword === undefined ? { newPassword: secret.newPassword } : { newPassword: secret.newPassword, oldPassword: secret.oldPassword }, recipient, command),
    };
  }

  private async persist(plan: PlannedOperation, idempotency?: { key: string; fingerprint: string }): Promise<OperationView> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO password_operation (id, op, mv_object_id, requested_by, requested_at, force_change, unlock, idempotency_key, request_fingerprint)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [plan.operationId, plan.op, plan.mvObjectId, plan.requestedBy, plan.requestedAt, plan.forceChangeAtNextLogon, plan.unlock, idempotency?.key ?? null, idempotency?.fingerprint ?? null],
      );
      const params: unknown[] = [];
      const tuples = plan.targets.map((t) => {
        const n = params.push(t.commandId, plan.operationId, t.connector, t.domain, t.anchor, t.accountName, t.expiresAt);
        return `($${n - 6}, $${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
      });
      await tx.query(`INSERT INTO password_target (command_id, operation_id, connector, domain, anchor, account_name, expires_at) VALUES ${tuples.join(', ')}`, params);
      await enqueueOutbox((sql, p) => tx.query(sql, p), this.schema, plan.commands);
    });
    // Just accepted: every target is pending (no outcome can exist before the commit above).
    return {
      operationId: plan.operationId,
      op: plan.op,
      status: 'pending',
      mvObjectId: plan.mvObjectId,
      requestedBy: plan.requestedBy,
      requestedAt: plan.requestedAt,
      forceChangeAtNextLogon: plan.forceChangeAtNextLogon,
      unlock: plan.unlock,
      targets: plan.targets.map((t) => ({ ...t, result: 'pending' as const, message: null, completedAt: null })),
    };
  }
}

function iso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();
}

function storedTarget(r: Record<string, unknown>): StoredTarget {
  const result = r['result'] as string | null;
  return {
    commandId: r['command_id'] as string,
    connector: r['connector'] as string,
    domain: r['domain'] as string,
    anchor: r['anchor'] as string,
    accountName: r['account_name'] as string,
    expiresAt: iso(r['expires_at'])!,
    result: result && (PASSWORD_RESULTS as readonly string[]).includes(result) ? (result as PasswordResult) : result ? 'failed' : null,
    message: (r['message'] as string | null) ?? null,
    completedAt: iso(r['completed_at']),
  };
}

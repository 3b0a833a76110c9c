import { RunInProgress } from '@metaweave/connector-runtime';
import { EnvelopeFactory, passwordCommandKey, type Message, type PasswordCommandV1, type PasswordOutcomeV1, type PasswordResult } from '@metaweave/contracts';
import { ConsumerLoop, enqueueOutbox, quoteIdent, type Logger } from '@metaweave/messaging';
import { SamrError, scrubSecrets, splitAccountSid, type SamrStatus } from '@metaweave/samr';
import { openPassword, type PasswordSecret, type RecipientKeyPair } from '@metaweave/secrets';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { DomainLease } from './lease';
import type { Nt4Domain } from './nt4-domain';

export interface PasswordApplierOptions {
  readonly db: DataSource;
  readonly schema: string;
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly commandsTopic: string;
  readonly outcomesTopic: string;
  readonly source: string;
  readonly domain: Nt4Domain;
  readonly lease: DomainLease;
  /** This connector's private key(s): the password service seals to the public half. */
  readonly keys: readonly RecipientKeyPair[];
  /** Longest a command waits for the domain's lease (never past its expiry). */
  readonly lockWaitMs: number;
  readonly logger: Logger;
  readonly clock?: () => number;
}

/** NT_STATUS (as SamrStatus) → MIIS password result (domain.md §3.7). */
const RESULTS: Partial<Record<SamrStatus, PasswordResult>> = {
  PASSWORD_RESTRICTION: 'new-password-violate-policy',
  WRONG_PASSWORD: 'bad-password',
  ACCESS_DENIED: 'access-denied',
  ACCOUNT_LOCKED_OUT: 'access-denied',
  ACCOUNT_DISABLED: 'access-denied',
  ACCOUNT_RESTRICTION: 'access-denied',
  LOGON_FAILURE: 'ma-credentials-failure',
  NO_SUCH_USER: 'ma-object-not-found',
  NO_SUCH_DOMAIN: 'ma-object-not-found',
  UNREACHABLE: 'target-unreachable',
  CONNECTION_BROKEN: 'target-unreachable',
  TIMEOUT: 'target-unreachable',
};

export function passwordResultOf(status: SamrStatus): PasswordResult {
  return RESULTS[status] ?? 'failed';
}

/**
 * Applies the password commands addressed to this connector and domain (admin set with
 * force-change and unlock options, or a user's change proving the old password), one at a time
 * under the domain's lease, and emits one `password.outcome` per command through the outbox.
 *
 * The clear password exists only between `openPassword` and the SAMR call; it is never logged,
 * stored, put in an error or an outcome (messages are scrubbed of it in case the server echoed it).
 * Command ids are kept in PostgreSQL: a command seen before (replay or redelivery after it ran)
 * is not applied again and is reported `replayed`; an expired one is refused as `expired`.
 */
export class PasswordApplier {
  private readonly envelopes: EnvelopeFactory;
  private readonly s: string;
  private loop?: ConsumerLoop;
  private readonly now: () => number;

  constructor(private readonly o: PasswordApplierOptions) {
    this.envelopes = new EnvelopeFactory({ source: o.source });
    this.s = quoteIdent(o.schema);
    this.now = o.clock ?? Date.now;
  }

  async start(): Promise<void> {
    this.loop = new ConsumerLoop({
      kafka: this.o.kafka,
      groupId: this.o.groupId,
      topics: [this.o.commandsTopic],
      expectedTypes: ['password.command'],
      fromBeginning: true,
      logger: this.o.logger,
      handle: (message) => this.handle(message as Message<'password.command'>),
    });
    await this.loop.start();
  }

  isRunning(): boolean {
    return this.loop?.isRunning() ?? false;
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  private get connector(): string {
    return this.o.domain.name;
  }

  async handle(message: Message<'password.command'>): Promise<void> {
    const c = message.data;
    if (c.connector !== this.connector) return;
    const fresh = await this.o.db.query(
      `INSERT INTO ${this.s}.password_command (command_id, operation_id, connector, domain, anchor, account_name, op, status, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'received', $8) ON CONFLICT (command_id) DO NOTHING RETURNING command_id`,
      [c.commandId, c.operationId, c.connector, c.domain, c.anchor, c.accountName, c.op, c.expiresAt],
    );
    if (fresh.length === 0) {
      const [row] = await this.o.db.query(`SELECT status, result, completed_at FROM ${this.s}.password_command WHERE command_id = $1`, [c.commandId]);
      if (row?.status === 'done') {
        this.o.logger.warn({ commandId: c.commandId, operationId: c.operationId, firstResult: row.result }, 'password command seen before; not applied again');
        await this.emit(c, 'replayed', `command ${c.commandId} was already processed (result ${row.result}); it is not applied again`, message, false);
        return;
      }
      // 'received': an earlier delivery stopped before finishing; apply it now (at least once).
    }
    const finish = async (result: PasswordResult, text: string | null) => {
      this.o.logger.info({ commandId: c.commandId, operationId: c.operationId, op: c.op, account: `${c.domain}\\${c.accountName}`, result }, 'password command done');
      await this.emit(c, result, text, message, true);
    };
    const outcome = await this.execute(c, finish);
    if (outcome) await finish(outcome.result, outcome.text);
  }

  /**
   * Applies the command. Under the lease it re-checks that no other delivery of the same command
   * (a redelivery after a consumer-group rebalance, on this or another replica) finished first, and
   * records the result before letting the domain go — so one command id touches the account at
   * most once even when two deliveries race. Returns the result to record, or null if recorded.
   */
  private async execute(
    c: PasswordCommandV1,
    finish: (result: PasswordResult, text: string | null) => Promise<void>,
  ): Promise<{ result: PasswordResult; text: string | null } | null> {
    const domain = this.o.domain.partitions()[0]!;
    if (c.domain.toUpperCase() !== domain) return { result: 'ma-object-not-found', text: `this connector serves domain ${domain}, not ${c.domain}` };
    const remaining = () => Date.parse(c.expiresAt) - this.now();
    if (remaining() <= 0) return { result: 'expired', text: `the command expired at ${c.expiresAt}; not applied` };
    let secret: PasswordSecret;
    try {
      secret = openPassword(c, this.o.keys);
    } catch (error) {
      return { result: 'undecryptable', text: (error as Error).message };
    }
    const secrets = [secret.newPassword, secret.oldPassword];
    try {
      return await this.o.lease.with(domain, Math.min(this.o.lockWaitMs, remaining()), `password ${c.op}`, async () => {
        const [row] = await this.o.db.query(`SELECT status FROM ${this.s}.password_command WHERE command_id = $1`, [c.commandId]);
        if (row?.status === 'done') {
          this.o.logger.warn({ commandId: c.commandId }, 'another delivery of this password command finished first; not applied again');
          return null;
        }
        const r = await this.apply(c, secret, domain, remaining);
        await finish(r.result, r.text);
        return null;
      });
    } catch (error) {
      if (error instanceof RunInProgress) return { result: 'expired', text: `the command expired at ${c.expiresAt} while it waited for the domain's lease; not applied` };
      // the database or the lease failed: the consumer loop retries the message (the secret is not in this error)
      throw new Error(`password command ${c.commandId}: ${scrubSecrets((error as Error).message, secrets)}`);
    }
  }

  /** The SAMR call itself; SAMR failures become results. Runs under the domain's lease. */
  private async apply(c: PasswordCommandV1, secret: PasswordSecret, domain: string, remaining: () => number): Promise<{ result: PasswordResult; text: string | null }> {
    if (remaining() <= 0) return { result: 'expired', text: `the command expired at ${c.expiresAt} while it waited for the domain; not applied` };
    const secrets = [secret.newPassword, secret.oldPassword];
    try {
      const d = await this.o.domain.samr();
      if (c.op === 'set') {
        const rid = this.ridOf(c.anchor, d.description.domainSid);
        if (rid === null) return { result: 'ma-object-not-found', text: `${c.anchor} is not an account of domain ${domain}` };
        const r = await d.setPassword(rid, secret.newPassword, { forceChangeAtNextLogon: c.forceChangeAtNextLogon, unlock: c.unlock });
        const notes = [c.forceChangeAtNextLogon ? 'must change at next logon' : null, r.unlocked ? 'unlocked' : null].filter(Boolean);
        return { result: 'success', text: notes.length > 0 ? notes.join('; ') : null };
      }
      if (secret.oldPassword === undefined) return { result: 'undecryptable', text: 'a change command must carry the old password' };
      await d.changePassword(c.accountName, secret.oldPassword, secret.newPassword);
      return { result: 'success', text: null };
    } catch (error) {
      if (error instanceof SamrError) {
        const status = error.ntStatus ?? error.status;
        return { result: passwordResultOf(error.status), text: scrubSecrets(`${status}: ${error.message}`, secrets) };
      }
      return { result: 'failed', text: scrubSecrets((error as Error).message, secrets) };
    }
  }

  private ridOf(anchor: string, domainSid: string): number | null {
    try {
      const { domainSid: sid, rid } = splitAccountSid(anchor);
      return sid === domainSid ? rid : null;
    } catch {
      return null;
    }
  }

  /** Records the result (unless only reporting a replay) and enqueues the outcome, in one transaction. */
  private async emit(c: PasswordCommandV1, result: PasswordResult, text: string | null, cause: Message, record: boolean): Promise<void> {
    const outcome: PasswordOutcomeV1 = {
      commandId: c.commandId,
      operationId: c.operationId,
      connector: c.connector,
      domain: c.domain,
      anchor: c.anchor,
      accountName: c.accountName,
      op: c.op,
      result,
      message: text,
      completedAt: new Date(this.now()).toISOString(),
    };
    const event = this.envelopes.create({ type: 'password.outcome', schemaVersion: 1, data: outcome, causedBy: cause });
    await this.o.db.transaction(async (tx) => {
      if (record) {
        await tx.query(`UPDATE ${this.s}.password_command SET status = 'done', result = $2, message = $3, completed_at = now() WHERE command_id = $1`, [
          c.commandId,
          result,
          text,
        ]);
      }
      await enqueueOutbox((sql, params) => tx.query(sql, params), this.o.schema, [
        { topic: this.o.outcomesTopic, key: passwordCommandKey(c.connector, c.domain), message: event },
      ]);
    });
  }
}

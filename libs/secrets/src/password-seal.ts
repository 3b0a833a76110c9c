import type { PasswordCommandV1, SealedSecret } from '@metaweave/contracts';
import { open, seal, SealedSecretError, type RecipientKeyPair } from './sealed-box';

/** What a password command carries sealed. */
export interface PasswordSecret {
  readonly newPassword: string;
  /** Only for `change`: proves the caller knows the current password. */
  readonly oldPassword?: string;
}

type Bound = Pick<PasswordCommandV1, 'commandId' | 'connector' | 'anchor' | 'op' | 'expiresAt'>;

/** The associated data that binds a sealed password to its command. */
export function passwordAad(c: Bound): string {
  return ['metaweave-password-v1', c.commandId, c.connector, c.anchor, c.op, c.expiresAt].join('\n');
}

export function sealPassword(secret: PasswordSecret, recipient: { kid: string; publicKeyPem: string }, command: Bound): SealedSecret {
  return seal(JSON.stringify(secret), recipient, passwordAad(command));
}

export function openPassword(command: Bound & { sealed: SealedSecret }, keys: readonly RecipientKeyPair[]): PasswordSecret {
  const text = open(command.sealed, keys, passwordAad(command));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SealedSecretError('malformed', 'the sealed payload is not a password secret');
  }
  const p = parsed as Partial<PasswordSecret>;
  if (typeof p.newPassword !== 'string' || (p.oldPassword !== undefined && typeof p.oldPassword !== 'string')) {
    throw new SealedSecretError('malformed', 'the sealed payload is not a password secret');
  }
  if (command.op === 'change' && p.oldPassword === undefined) throw new SealedSecretError('malformed', 'a change command must carry the old password');
  return p.oldPassword === undefined ? { newPassword: p.newPassword } : { newPassword: p.newPassword, oldPassword: p.oldPassword };
}

/**
 * Remembers command ids seen, so a replayed command is refused. In-memory is enough inside one
 * connector process only together with a durable store; the connector keeps ids in PostgreSQL and
 * uses this as a fast first check. Entries are dropped once their command has expired anyway.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  constructor(private readonly clock: () => number = Date.now) {}

  /** True the first time a command id is presented before it expires. */
  admit(commandId: string, expiresAtMs: number): boolean {
    const now = this.clock();
    for (const [id, exp] of this.seen) if (exp < now) this.seen.delete(id);
    if (expiresAtMs < now || this.seen.has(commandId)) return false;
    this.seen.set(commandId, expiresAtMs);
    return true;
  }
}

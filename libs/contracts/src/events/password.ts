import { z } from 'zod';

/**
 * Password set (admin reset) or change (old + new) for one NT4 account, from the password service
 * to the NT4 connector of that domain. Kafka key: `${connector}/${domain}` — all password commands
 * of a domain in one partition, in order. The secret is never in clear here: `sealed` is a hybrid
 * encryption (see `@metaweave/secrets`) to the connector's public key whose associated data binds
 * `commandId`, `connector`, `anchor`, `op` and `expiresAt`; the connector refuses an expired command
 * or a `commandId` it has seen before.
 */
export const PASSWORD_COMMAND = 'password.command' as const;

export interface SealedSecret {
  /** Algorithm suite, e.g. `X25519-HKDF-SHA256-A256GCM`. */
  readonly alg: string;
  /** Id of the recipient key pair (rotation). */
  readonly kid: string;
  /** Ephemeral public key, IV, ciphertext and GCM tag, base64. */
  readonly epk: string;
  readonly iv: string;
  readonly ct: string;
  readonly tag: string;
}

export interface PasswordCommandV1 {
  /** Unique per command: the replay key. */
  readonly commandId: string;
  /** The operation this command is part of (one operation → one command per target account). */
  readonly operationId: string;
  readonly connector: string;
  /** The NT4 domain (the connector's partition). */
  readonly domain: string;
  /** The account's anchor (objectSid string). */
  readonly anchor: string;
  readonly accountName: string;
  readonly op: 'set' | 'change';
  readonly forceChangeAtNextLogon: boolean;
  readonly unlock: boolean;
  readonly expiresAt: string;
  /** Who asked (token subject); audit only. */
  readonly requestedBy: string;
  /** `{ newPassword, oldPassword? }` sealed to the connector's key. */
  readonly sealed: SealedSecret;
}

const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64');

export const sealedSecretSchema = z
  .object({ alg: z.string().min(1), kid: z.string().min(1), epk: b64, iv: b64, ct: b64, tag: b64 })
  .strict();

export const passwordCommandV1Schema = z
  .object({
    commandId: z.string().uuid(),
    operationId: z.string().uuid(),
    connector: z.string().min(1),
    domain: z.string().min(1),
    anchor: z.string().min(1),
    accountName: z.string().min(1),
    op: z.enum(['set', 'change']),
    forceChangeAtNextLogon: z.boolean(),
    unlock: z.boolean(),
    expiresAt: z.string().datetime({ offset: true }),
    requestedBy: z.string().min(1),
    sealed: sealedSecretSchema,
  })
  .strict();

/**
 * What became of one password command, in MIIS's result vocabulary (domain.md §3.7), plus the
 * refusals of our own transport (`expired`, `replayed`, `undecryptable`). Never carries a secret.
 */
export const PASSWORD_OUTCOME = 'password.outcome' as const;

export const PASSWORD_RESULTS = [
  'success',
  'bad-password',
  'new-password-violate-policy',
  'access-denied',
  'ma-credentials-failure',
  'ma-concurrent-execution',
  'ma-object-not-found',
  'target-unreachable',
  'expired',
  'replayed',
  'undecryptable',
  'failed',
] as const;
export type PasswordResult = (typeof PASSWORD_RESULTS)[number];

export interface PasswordOutcomeV1 {
  readonly commandId: string;
  readonly operationId: string;
  readonly connector: string;
  readonly domain: string;
  readonly anchor: string;
  readonly accountName: string;
  readonly op: 'set' | 'change';
  readonly result: PasswordResult;
  /** A reason a person can act on; never the password, never the server's echo of it. */
  readonly message: string | null;
  readonly completedAt: string;
}

export const passwordOutcomeV1Schema = z
  .object({
    commandId: z.string().uuid(),
    operationId: z.string().uuid(),
    connector: z.string().min(1),
    domain: z.string().min(1),
    anchor: z.string().min(1),
    accountName: z.string().min(1),
    op: z.enum(['set', 'change']),
    result: z.enum(PASSWORD_RESULTS),
    message: z.string().nullable(),
    completedAt: z.string().datetime({ offset: true }),
  })
  .strict();

export function passwordCommandKey(connector: string, domain: string): string {
  return `${connector}/${domain}`;
}

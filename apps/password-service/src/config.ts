import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { splitPemKeys } from '@metaweave/auth';
import { baseServiceConfig, serviceSettings } from '@metaweave/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'password-service';

/** One NT4 connector the service may send password commands to, with the public key they are sealed to. */
export interface Nt4Target {
  /** Connector name as it appears in MV events' `connectors[]` (e.g. `nt4-contoso`). */
  readonly connector: string;
  /** NetBIOS domain the connector serves (its partition), upper case. */
  readonly domain: string;
  /** Id of the connector's X25519 key pair (rotation). */
  readonly kid: string;
  /** The connector's X25519 public key, PEM (SPKI). */
  readonly publicKeyPem: string;
}

const connectorSchema = z
  .object({
    connector: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and -'),
    domain: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, 'a NetBIOS domain name (at most 15 characters)'),
    kid: z.string().min(1),
    publicKeyPem: z.string().min(1),
  })
  .strict()
  .superRefine((c, ctx) => {
    try {
      const key = createPublicKey(c.publicKeyPem);
      if (key.asymmetricKeyType !== 'x25519') ctx.addIssue({ code: 'custom', path: ['publicKeyPem'], message: `is a ${key.asymmetricKeyType} key; an X25519 public key is required` });
    } catch {
      ctx.addIssue({ code: 'custom', path: ['publicKeyPem'], message: 'is not a PEM public key' });
    }
  })
  .transform((c): Nt4Target => ({ ...c, domain: c.domain.toUpperCase() }));

/**
 * `MW_PASSWORD_CONNECTORS`: a JSON array of connectors (see docs/password-service.md). Unset or
 * `[]`: the service runs and refuses every request with "connector not configured" (a deployment
 * without NT4 domains has nothing to route to).
 */
const connectorsSetting = z
  .string()
  .min(1)
  .default('[]')
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not JSON: expected [{"connector","domain","kid","publicKeyPem"}, ...]' });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(connectorSchema)
      .refine((l) => new Set(l.map((c) => c.connector)).size === l.length, 'a connector is named twice'),
  );

const pemFile = (what: string) =>
  z
    .string()
    .min(1)
    .transform((path, ctx) => {
      try {
        return readFileSync(path);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `cannot read the ${what} file '${path}': ${(error as NodeJS.ErrnoException).code ?? 'error'}` });
        return z.NEVER;
      }
    });

export const configSchema = z
  .object({
    ...serviceSettings,
    MW_PASSWORD_CONNECTORS: connectorsSetting,
    /** How long a password command may wait for its connector before it is refused. */
    MW_PASSWORD_COMMAND_TTL_SECONDS: z.coerce.number().int().min(10).max(3600).default(300),
    /** After expiry, how long to wait for a late outcome before a target is reported `expired`. */
    MW_PASSWORD_OUTCOME_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
    /** Unset: no token is accepted, every API call is refused with 401 (fail closed) and a warning is logged at boot. */
    MW_AUTH_PUBLIC_KEYS: z
      .string()
      .min(1)
      .transform((t) => splitPemKeys(t))
      .refine((k) => k.length > 0, 'expected one or more PEM public keys (-----BEGIN PUBLIC KEY-----)')
      .optional(),
    MW_AUTH_ISSUER: z.string().min(1).default('metaweave'),
    MW_AUTH_AUDIENCE: z.string().min(1).default('metaweave'),
    MW_TLS_CERT_FILE: pemFile('TLS certificate').optional(),
    MW_TLS_KEY_FILE: pemFile('TLS key').optional(),
  })
  .superRefine((e, ctx) => {
    if ((e.MW_TLS_CERT_FILE === undefined) !== (e.MW_TLS_KEY_FILE === undefined)) {
      ctx.addIssue({ code: 'custom', path: [e.MW_TLS_CERT_FILE ? 'MW_TLS_KEY_FILE' : 'MW_TLS_CERT_FILE'], message: 'set both MW_TLS_CERT_FILE and MW_TLS_KEY_FILE, or neither' });
    }
  })
  .transform((e) => ({
    ...baseServiceConfig(e, SERVICE_NAME),
    connectors: e.MW_PASSWORD_CONNECTORS,
    commandTtlMs: e.MW_PASSWORD_COMMAND_TTL_SECONDS * 1000,
    outcomeGraceMs: e.MW_PASSWORD_OUTCOME_GRACE_SECONDS * 1000,
    auth: { publicKeysPem: e.MW_AUTH_PUBLIC_KEYS ?? [], issuer: e.MW_AUTH_ISSUER, audience: e.MW_AUTH_AUDIENCE },
    tls: e.MW_TLS_CERT_FILE && e.MW_TLS_KEY_FILE ? { cert: e.MW_TLS_CERT_FILE, key: e.MW_TLS_KEY_FILE } : undefined,
  }));

export type PasswordServiceConfig = z.output<typeof configSchema>;
export const CONFIG = Symbol('PasswordServiceConfig');
/** The clock (`() => Date`), injected so status and expiry are testable. */
export const CLOCK = Symbol('Clock');

import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { baseServiceConfig, serviceSettings } from '@metaweave/platform';
import type { RecipientKeyPair } from '@metaweave/secrets';
import { z } from 'zod';

export const SERVICE_NAME = 'nt4-connector';

const bool = z.enum(['true', 'false']).default('false').transform((v) => v === 'true');

export const configSchema = z
  .object({
    ...serviceSettings,
    /** NetBIOS name of the domain: the partition (one connector configuration per domain). */
    MW_NT4_DOMAIN: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, 'expected a NetBIOS domain name (at most 15 characters)'),
    MW_NT4_HOST: z.string().min(1),
    MW_NT4_PORT: z.coerce.number().int().min(1).max(65535).default(445),
    MW_NT4_ADMIN_USER: z.string().min(1),
    MW_NT4_ADMIN_PASSWORD: z.string().min(1, 'a blank administrative password is refused'),
    MW_NT4_CLIENT_CONF: z.string().min(1).optional(),
    MW_NT4_SMB1: bool,
    MW_NT4_IMPORT_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
    MW_CONNECTOR_NAME: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and -').optional(),
    /**
     * The connector's password key pair(s), JSON `[{"kid","privateKeyPem","publicKeyPem"?}]` (as
     * `generateRecipientKeyPair` makes them; several for rotation), or a file holding that JSON.
     * Without keys the connector takes no password commands.
     */
    MW_NT4_PASSWORD_KEYS: z.string().min(1).optional(),
    MW_NT4_PASSWORD_KEYS_FILE: z.string().min(1).optional(),
    /** Longest an export or password command waits for the domain's lease. */
    MW_NT4_LEASE_WAIT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(600_000),
  })
  .superRefine((e, ctx) => {
    if (e.MW_NT4_PASSWORD_KEYS && e.MW_NT4_PASSWORD_KEYS_FILE) {
      ctx.addIssue({ code: 'custom', path: ['MW_NT4_PASSWORD_KEYS_FILE'], message: 'give MW_NT4_PASSWORD_KEYS or MW_NT4_PASSWORD_KEYS_FILE, not both' });
      return;
    }
    try {
      passwordKeys(e.MW_NT4_PASSWORD_KEYS, e.MW_NT4_PASSWORD_KEYS_FILE);
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: [e.MW_NT4_PASSWORD_KEYS_FILE ? 'MW_NT4_PASSWORD_KEYS_FILE' : 'MW_NT4_PASSWORD_KEYS'], message: (error as Error).message });
    }
  })
  .transform((e) => ({
    ...baseServiceConfig(e, SERVICE_NAME),
    connector: e.MW_CONNECTOR_NAME ?? `nt4-${e.MW_NT4_DOMAIN.toLowerCase()}`,
    domain: {
      domain: e.MW_NT4_DOMAIN.toUpperCase(),
      host: e.MW_NT4_HOST,
      port: e.MW_NT4_PORT,
      username: e.MW_NT4_ADMIN_USER,
      password: e.MW_NT4_ADMIN_PASSWORD,
      clientConf: e.MW_NT4_CLIENT_CONF,
      smb1: e.MW_NT4_SMB1,
    },
    /** Full import every N ms (the NT4 SAM has no change log); 0 = only on demand. */
    importIntervalMs: e.MW_NT4_IMPORT_INTERVAL_MS,
    passwordKeys: passwordKeys(e.MW_NT4_PASSWORD_KEYS, e.MW_NT4_PASSWORD_KEYS_FILE),
    leaseWaitMs: e.MW_NT4_LEASE_WAIT_MS,
  }));

/**
 * Parses and checks the password key pairs. Error messages name the entry, never its key material.
 */
export function passwordKeys(json: string | undefined, file: string | undefined): RecipientKeyPair[] {
  let text = json;
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (text === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('expected JSON: [{"kid": "...", "privateKeyPem": "-----BEGIN PRIVATE KEY-----..."}]');
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new Error('expected a non-empty JSON array of key pairs');
  const kids = new Set<string>();
  return parsed.map((entry: unknown, i) => {
    const k = (entry ?? {}) as { kid?: unknown; privateKeyPem?: unknown; publicKeyPem?: unknown };
    if (typeof k.kid !== 'string' || !k.kid) throw new Error(`key ${i}: kid must be a non-empty string`);
    if (kids.has(k.kid)) throw new Error(`key ${i}: kid '${k.kid}' appears twice`);
    kids.add(k.kid);
    if (typeof k.privateKeyPem !== 'string') throw new Error(`key '${k.kid}': privateKeyPem must be a PEM string`);
    let privateKey;
    try {
      privateKey = createPrivateKey(k.privateKeyPem);
    } catch {
      throw new Error(`key '${k.kid}': privateKeyPem is not a readable PKCS#8 private key`);
    }
    if (privateKey.asymmetricKeyType !== 'x25519') throw new Error(`key '${k.kid}': expected an X25519 key, got ${privateKey.asymmetricKeyType}`);
    const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
    if (typeof k.publicKeyPem === 'string' && k.publicKeyPem.trim() !== publicKeyPem.trim()) {
      throw new Error(`key '${k.kid}': publicKeyPem is not the public half of privateKeyPem`);
    }
    return { kid: k.kid, privateKeyPem: k.privateKeyPem, publicKeyPem };
  });
}

export type Nt4Config = z.output<typeof configSchema>;
export const CONFIG = Symbol('Nt4Config');

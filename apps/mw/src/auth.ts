import { generateSigningKeyPair, TokenIssuer, type Role } from '@metaweave/auth';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR } from './workspace';

/**
 * The local stack's development signing key (`.mw/auth/`, made on first use): the services get its
 * public key (MW_AUTH_PUBLIC_KEYS), `mw` signs its own bearer tokens with the private key, and
 * `mw token` prints one for curl. A real deployment configures its IdP's keys instead.
 */
export const AUTH_DIR = join(DATA_DIR, 'auth');
const PRIVATE = join(AUTH_DIR, 'dev-signing-key.pem');
const PUBLIC = join(AUTH_DIR, 'dev-signing-key.pub.pem');
export const DEV_ISSUER = 'metaweave';
export const DEV_AUDIENCE = 'metaweave';

function ensureKeys(): { privateKeyPem: string; publicKeyPem: string } {
  if (!existsSync(PRIVATE) || !existsSync(PUBLIC)) {
    mkdirSync(AUTH_DIR, { recursive: true, mode: 0o700 });
    const keys = generateSigningKeyPair();
    writeFileSync(PRIVATE, keys.privateKeyPem, { mode: 0o600 });
    chmodSync(PRIVATE, 0o600);
    writeFileSync(PUBLIC, keys.publicKeyPem);
  }
  return { privateKeyPem: readFileSync(PRIVATE, 'utf8'), publicKeyPem: readFileSync(PUBLIC, 'utf8') };
}

export function devPublicKey(): string {
  return ensureKeys().publicKeyPem;
}

export async function devToken(roles: readonly Role[], subject = `mw:${process.env['USER'] ?? 'operator'}`, ttlSeconds = 3600): Promise<string> {
  return new TokenIssuer(ensureKeys().privateKeyPem, DEV_ISSUER, DEV_AUDIENCE).issue(subject, roles, ttlSeconds);
}

/** The token `mw` sends: MW_TOKEN if set (e.g. from your IdP), else a dev token with every role. */
export async function cliToken(): Promise<string> {
  return process.env['MW_TOKEN'] ?? devToken(['admins']);
}

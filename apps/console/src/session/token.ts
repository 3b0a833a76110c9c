import type { Role } from '@metaweave/auth';

export type { Role };

/** The roles the APIs know (libs/auth `ROLES`); `admins` may do everything. */
export const KNOWN_ROLES: readonly Role[] = ['admins', 'operators', 'joiners', 'browse', 'password-set'];

/** What the console learns from a token's payload to shape the page. The servers verify it; the console never trusts it for more. */
export interface TokenInfo {
  readonly subject: string;
  readonly roles: readonly Role[];
  /** Expiry, ms since the epoch. */
  readonly expiresAt: number | null;
}

export class TokenUnreadable extends Error {}

function base64UrlDecode(part: string): string {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  // UTF-8 bytes → text without TextDecoder (absent from some test DOMs): percent-decode them.
  return decodeURIComponent(Array.from(atob(b64), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''));
}

/**
 * Reads a bearer token's claims (without verifying it: only the servers can). Errors never quote
 * the token.
 */
export function readToken(raw: string, now = Date.now()): TokenInfo {
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)) || !parts[1]) {
    throw new TokenUnreadable('This is not a bearer token (a JWT: three base64url parts separated by dots). Paste the output of `mw token`.');
  }
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(base64UrlDecode(parts[1])) as Record<string, unknown>;
  } catch {
    throw new TokenUnreadable('The token’s payload cannot be read. Paste the whole token, as `mw token` prints it.');
  }
  const exp = typeof payload['exp'] === 'number' ? payload['exp'] * 1000 : null;
  if (exp !== null && exp <= now) throw new TokenUnreadable('This token has expired. Get a fresh one (`mw token`) and log in again.');
  const raw_roles = Array.isArray(payload['roles']) ? payload['roles'] : [];
  const roles = raw_roles.filter((r): r is Role => typeof r === 'string' && (KNOWN_ROLES as readonly string[]).includes(r));
  return { subject: typeof payload['sub'] === 'string' ? payload['sub'] : '(no subject)', roles, expiresAt: exp };
}

/** True if the roles allow what needs one of `required` (admins hold every role), as the servers decide. */
export function allows(roles: readonly Role[], ...required: Role[]): boolean {
  return roles.includes('admins') || required.some((r) => roles.includes(r));
}

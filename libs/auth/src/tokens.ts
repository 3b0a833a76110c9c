import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, errors, importPKCS8, importSPKI, jwtVerify, type KeyLike } from 'jose';
import { isRole, type Principal, type Role } from './roles';

/**
 * Bearer tokens are signed JWTs (EdDSA/Ed25519 by default; RS256 and ES256 accepted) verified
 * against configured public keys, with issuer, audience and expiry checked. The `roles` claim
 * carries MIIS-style roles.
 */
export const ACCEPTED_ALGORITHMS = ['EdDSA', 'RS256', 'ES256'] as const;
const ROLES_CLAIM = 'roles';

export interface AuthSettings {
  /** PEM (SPKI) public keys; a token signed by any of them is accepted (rotation). */
  readonly publicKeysPem: readonly string[];
  readonly issuer: string;
  readonly audience: string;
}

/** Why a token was refused; the message is safe to return to the caller (it never quotes the token). */
export class TokenRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenRejected';
  }
}

/** Splits a setting holding one or more PEM public keys (concatenated) into the keys. */
export function splitPemKeys(text: string): string[] {
  return [...text.matchAll(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g)].map((m) => m[0]);
}

async function importPublic(pem: string): Promise<KeyLike[]> {
  // A PEM does not say which JWS algorithm it is for; try each accepted one that fits the key type.
  const keys: KeyLike[] = [];
  for (const alg of ACCEPTED_ALGORITHMS) {
    try {
      keys.push(await importSPKI(pem, alg));
      break;
    } catch {
      /* not a key of this algorithm */
    }
  }
  if (keys.length === 0) throw new Error('a configured auth public key is not an Ed25519, RSA or P-256 SPKI PEM key');
  return keys;
}

export class TokenVerifier {
  private keys: Promise<KeyLike[]>;

  constructor(private readonly settings: AuthSettings) {
    if (settings.publicKeysPem.length === 0) throw new Error('no auth public key configured');
    this.keys = Promise.all(settings.publicKeysPem.map(importPublic)).then((k) => k.flat());
  }

  /** Verifies an `Authorization` header value and returns the principal, or throws TokenRejected. */
  async verifyAuthorization(header: string | undefined): Promise<Principal> {
    if (!header) throw new TokenRejected('missing bearer token: send "Authorization: Bearer <token>"');
    const m = /^Bearer\s+([A-Za-z0-9_\-.]+)$/i.exec(header.trim());
    if (!m) throw new TokenRejected('the Authorization header is not "Bearer <token>"');
    return this.verify(m[1]!);
  }

  async verify(token: string): Promise<Principal> {
    let lastError: unknown;
    for (const key of await this.keys) {
      try {
        const { payload } = await jwtVerify(token, key, {
          issuer: this.settings.issuer,
          audience: this.settings.audience,
          algorithms: [...ACCEPTED_ALGORITHMS],
          requiredClaims: ['sub', 'exp'],
        });
        const raw = payload[ROLES_CLAIM];
        const roles = Array.isArray(raw) ? raw.filter(isRole) : [];
        return { subject: payload.sub!, roles };
      } catch (error) {
        lastError = error;
        if (!(error instanceof errors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw new TokenRejected(describe(lastError));
  }
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the bearer token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `the bearer token's "${error.claim}" claim is not accepted (${error.reason})`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the bearer token is not signed by a configured key';
  if (error instanceof errors.JOSEAlgNotAllowed) return `the bearer token's algorithm is not accepted (use ${ACCEPTED_ALGORITHMS.join(', ')})`;
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return 'the bearer token is malformed';
  return 'the bearer token was refused';
}

export interface SigningKeyPair {
  readonly publicKeyPem: string;
  readonly privateKeyPem: string;
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Mints tokens (the `mw` CLI on a local stack, and tests). Production tokens come from your IdP. */
export class TokenIssuer {
  constructor(
    private readonly privateKeyPem: string,
    private readonly issuer: string,
    private readonly audience: string,
  ) {}

  async issue(subject: string, roles: readonly Role[], ttlSeconds = 3600): Promise<string> {
    const key = await importPKCS8(this.privateKeyPem, 'EdDSA');
    return new SignJWT({ [ROLES_CLAIM]: [...roles] })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .setSubject(subject)
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(key);
  }
}

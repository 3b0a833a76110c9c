import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import type { SealedSecret } from '@metaweave/contracts';

/**
 * Hybrid encryption of a small secret to a recipient's X25519 public key (ECIES style):
 * an ephemeral X25519 key pair per message, HKDF-SHA256 over the shared secret (salted with both
 * public keys) gives a one-time AES-256-GCM key, and the associated data binds the ciphertext to
 * the command it travels in (so it cannot be moved into another command). Only the holder of the
 * recipient's private key can open it; nothing here ever logs or echoes the plaintext.
 */
export const SEALED_ALG = 'X25519-HKDF-SHA256-A256GCM';
const INFO = Buffer.from('metaweave sealed secret v1');

export interface RecipientKeyPair {
  readonly kid: string;
  /** PEM (SPKI) */
  readonly publicKeyPem: string;
  /** PEM (PKCS#8) */
  readonly privateKeyPem: string;
}

/** Why a sealed secret could not be opened. The message never contains key or plaintext material. */
export class SealedSecretError extends Error {
  constructor(
    readonly reason: 'unknown-key' | 'unsupported-algorithm' | 'malformed' | 'tampered',
    message: string,
  ) {
    super(message);
    this.name = 'SealedSecretError';
  }
}

export function generateRecipientKeyPair(kid: string): RecipientKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return {
    kid,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function rawPublic(key: KeyObject): Buffer {
  // The last 32 bytes of the X25519 SPKI DER are the raw public key.
  return key.export({ type: 'spki', format: 'der' }).subarray(-32);
}

function deriveKey(shared: Buffer, epk: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([epk, recipient]), INFO, 32));
}

function loadPublic(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'x25519') throw new SealedSecretError('unsupported-algorithm', `recipient key is ${key.asymmetricKeyType}, expected x25519`);
  return key;
}

/** Seals `plaintext` (e.g. a JSON string holding passwords) for the recipient. */
export function seal(plaintext: string, recipient: { kid: string; publicKeyPem: string }, aad: string): SealedSecret {
  const recipientKey = loadPublic(recipient.publicKeyPem);
  const eph = generateKeyPairSync('x25519');
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: recipientKey });
  const epkDer = eph.publicKey.export({ type: 'spki', format: 'der' });
  const key = deriveKey(shared, rawPublic(eph.publicKey), rawPublic(recipientKey));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  key.fill(0);
  shared.fill(0);
  return {
    alg: SEALED_ALG,
    kid: recipient.kid,
    epk: epkDer.toString('base64'),
    iv: iv.toString('base64'),
    ct: ct.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

/**
 * Opens a sealed secret with one of the recipient's key pairs (chosen by `kid`, so keys can be
 * rotated). Throws SealedSecretError; a wrong key, altered ciphertext or different associated data
 * all give `tampered`.
 */
export function open(sealed: SealedSecret, keys: readonly RecipientKeyPair[], aad: string): string {
  if (sealed.alg !== SEALED_ALG) throw new SealedSecretError('unsupported-algorithm', `unsupported algorithm '${sealed.alg}' (expected ${SEALED_ALG})`);
  const pair = keys.find((k) => k.kid === sealed.kid);
  if (!pair) throw new SealedSecretError('unknown-key', `no private key with id '${sealed.kid}' is configured (known: ${keys.map((k) => k.kid).join(', ') || 'none'})`);
  let epk: KeyObject;
  try {
    epk = createPublicKey({ key: Buffer.from(sealed.epk, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new SealedSecretError('malformed', 'the ephemeral public key is not a valid X25519 key');
  }
  if (epk.asymmetricKeyType !== 'x25519') throw new SealedSecretError('malformed', 'the ephemeral public key is not an X25519 key');
  const privateKey = createPrivateKey(pair.privateKeyPem);
  const iv = Buffer.from(sealed.iv, 'base64');
  const tag = Buffer.from(sealed.tag, 'base64');
  if (iv.length !== 12 || tag.length !== 16) throw new SealedSecretError('malformed', 'IV must be 12 bytes and tag 16 bytes');
  const shared = diffieHellman({ privateKey, publicKey: epk });
  const key = deriveKey(shared, rawPublic(epk), rawPublic(createPublicKey(privateKey)));
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedSecretError('tampered', 'the sealed secret does not authenticate: wrong key, altered ciphertext or a different command');
  } finally {
    key.fill(0);
    shared.fill(0);
  }
}

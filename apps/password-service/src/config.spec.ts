import { generateSigningKeyPair } from '@metaweave/auth';
import { ConfigError, loadConfig } from '@metaweave/platform';
import { generateRecipientKeyPair } from '@metaweave/secrets';
import { configSchema } from './config';
import { changePasswordBodySchema, describeIssues, setPasswordBodySchema } from './api/schemas';

const recipient = generateRecipientKeyPair('k1');
const base = {
  MW_KAFKA_BROKERS: '127.0.0.1:19092',
  MW_DATABASE_URL: 'postgres://x@127.0.0.1/db',
  MW_DATABASE_SCHEMA: 'password_service',
  MW_HTTP_PORT: '7104',
  MW_AUTH_PUBLIC_KEYS: generateSigningKeyPair().publicKeyPem,
  MW_PASSWORD_CONNECTORS: JSON.stringify([{ connector: 'nt4-contoso', domain: 'contoso', kid: 'k1', publicKeyPem: recipient.publicKeyPem }]),
};

function problems(env: Record<string, string>): string {
  try {
    loadConfig(configSchema, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('password-service configuration', () => {
  it('reads connectors, keys, expiry and auth', () => {
    const c = loadConfig(configSchema, base);
    expect(c.connectors).toEqual([{ connector: 'nt4-contoso', domain: 'CONTOSO', kid: 'k1', publicKeyPem: recipient.publicKeyPem }]);
    expect(c.commandTtlMs).toBe(300_000);
    expect(c.auth).toMatchObject({ issuer: 'metaweave', audience: 'metaweave' });
    expect(c.tls).toBeUndefined();
  });

  it('runs without connectors or auth keys (refusing every request), as a chart without NT4 domains renders it', () => {
    const { MW_PASSWORD_CONNECTORS: _c, MW_AUTH_PUBLIC_KEYS: _a, ...rest } = base;
    const c = loadConfig(configSchema, rest);
    expect(c.connectors).toEqual([]);
    expect(c.auth.publicKeysPem).toEqual([]);
  });

  it('names the bad key: not JSON, a non-X25519 key, a duplicate connector, missing auth keys, half a TLS pair', () => {
    expect(problems({ ...base, MW_PASSWORD_CONNECTORS: 'nt4-contoso' })).toMatch(/MW_PASSWORD_CONNECTORS: is not JSON/);
    const ed = generateSigningKeyPair().publicKeyPem;
    expect(problems({ ...base, MW_PASSWORD_CONNECTORS: JSON.stringify([{ connector: 'nt4-a', domain: 'A', kid: 'k', publicKeyPem: ed }]) })).toMatch(
      /MW_PASSWORD_CONNECTORS\.0\.publicKeyPem: is a ed25519 key; an X25519 public key is required/,
    );
    expect(problems({ ...base, MW_PASSWORD_CONNECTORS: JSON.stringify([{ connector: 'nt4-a', domain: 'A', kid: 'k', publicKeyPem: 'junk' }]) })).toMatch(/publicKeyPem: is not a PEM public key/);
    const one = { connector: 'nt4-a', domain: 'A', kid: 'k', publicKeyPem: recipient.publicKeyPem };
    expect(problems({ ...base, MW_PASSWORD_CONNECTORS: JSON.stringify([one, one]) })).toMatch(/a connector is named twice/);
    expect(problems({ ...base, MW_AUTH_PUBLIC_KEYS: 'nope' })).toMatch(/MW_AUTH_PUBLIC_KEYS: expected one or more PEM public keys/);
    expect(problems({ ...base, MW_PASSWORD_CONNECTORS: '{"connector":"nt4-a"}' })).toMatch(/MW_PASSWORD_CONNECTORS: .*array/);
    expect(problems({ ...base, MW_TLS_CERT_FILE: __filename })).toMatch(/MW_TLS_KEY_FILE: set both/);
    expect(problems({ ...base, MW_TLS_CERT_FILE: '/nonexistent/cert.pem', MW_TLS_KEY_FILE: __filename })).toMatch(/cannot read the TLS certificate file '\/nonexistent\/cert.pem': ENOENT/);
  });
});

describe('request validation', () => {
  it('explains what is wrong without quoting a value', () => {
    const secret = 'S3cret-in-the-wrong-place';
    const bad = setPasswordBodySchema.safeParse({ newPassword: '', targets: [{ connector: 'nt4-a' }], unlock: secret, [secret]: 1 });
    expect(bad.success).toBe(false);
    const text = describeIssues(bad.error!, setPasswordBodySchema).join('\n');
    expect(text).toMatch(/newPassword: newPassword must not be empty/);
    expect(text).toMatch(/targets\.0\.anchor/);
    expect(text).toMatch(/unlock: .*boolean/);
    expect(text).toMatch(/\(body\): 1 unknown field\(s\); allowed: newPassword, targets, forceChangeAtNextLogon, unlock/);
    expect(text).not.toContain(secret);
    const long = changePasswordBodySchema.safeParse({ oldPassword: 'a', newPassword: 'x'.repeat(257) });
    expect(describeIssues(long.error!)).toEqual(['newPassword: newPassword is longer than the 256 characters an NT4 password can hold']);
  });
});

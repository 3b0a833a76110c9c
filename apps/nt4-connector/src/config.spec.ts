import { generateRecipientKeyPair } from '@metaweave/secrets';
import { configSchema, passwordKeys } from './config';

const base = {
  MW_KAFKA_BROKERS: '127.0.0.1:19092',
  MW_DATABASE_URL: 'postgresql://u:p@127.0.0.1:5433/db',
  MW_DATABASE_SCHEMA: 'nt4_connector',
  MW_HTTP_PORT: '8080',
  MW_NT4_DOMAIN: 'contoso',
  MW_NT4_HOST: '127.0.0.1',
  MW_NT4_ADMIN_USER: 'admin',
  MW_NT4_ADMIN_PASSWORD: 'Passw0rd!',
};

describe('nt4-connector configuration', () => {
  it('one configuration per domain: connector nt4-<domain>, the domain upper-cased as partition', () => {
    const c = configSchema.parse(base);
    expect(c.connector).toBe('nt4-contoso');
    expect(c.domain.domain).toBe('CONTOSO');
    expect(c.passwordKeys).toEqual([]);
    expect(c.leaseWaitMs).toBe(600_000);
  });

  it('refuses a blank administrative password', () => {
    const r = configSchema.safeParse({ ...base, MW_NT4_ADMIN_PASSWORD: '' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/blank administrative password/);
  });

  it('takes password key pairs as JSON, derives and checks the public half', () => {
    const k = generateRecipientKeyPair('k1');
    const [parsed] = passwordKeys(JSON.stringify([{ kid: 'k1', privateKeyPem: k.privateKeyPem }]), undefined);
    expect(parsed).toEqual(k);
    const c = configSchema.parse({ ...base, MW_NT4_PASSWORD_KEYS: JSON.stringify([k]) });
    expect(c.passwordKeys.map((x) => x.kid)).toEqual(['k1']);
  });

  it('names what is wrong with a key without echoing key material', () => {
    const k = generateRecipientKeyPair('k1');
    const other = generateRecipientKeyPair('k2');
    const cases: [string, RegExp][] = [
      ['not json', /expected JSON/],
      ['[]', /non-empty JSON array/],
      [JSON.stringify([{ privateKeyPem: k.privateKeyPem }]), /key 0: kid/],
      [JSON.stringify([k, k]), /appears twice/],
      [JSON.stringify([{ kid: 'k1', privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }]), /'k1'.*not a readable PKCS#8/],
      [JSON.stringify([{ ...k, publicKeyPem: other.publicKeyPem }]), /not the public half/],
    ];
    for (const [json, message] of cases) {
      const r = configSchema.safeParse({ ...base, MW_NT4_PASSWORD_KEYS: json });
      expect(r.success).toBe(false);
      const text = JSON.stringify(r.error?.issues);
      expect(text).toMatch(message);
      expect(text).not.toContain(k.privateKeyPem.split('\n')[1]);
    }
  });

  it('reads keys from a file, and says which file it cannot read', () => {
    expect(() => passwordKeys(undefined, '/nonexistent/keys.json')).toThrow(/cannot read \/nonexistent\/keys.json: ENOENT/);
    const r = configSchema.safeParse({ ...base, MW_NT4_PASSWORD_KEYS: '[]', MW_NT4_PASSWORD_KEYS_FILE: '/x' });
    expect(JSON.stringify(r.error?.issues)).toMatch(/not both/);
  });
});

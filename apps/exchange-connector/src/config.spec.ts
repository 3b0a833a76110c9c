import type { ConfigError} from '@metaweave/platform';
import { loadConfig } from '@metaweave/platform';
import { configSchema } from './config';

const base = {
  MW_KAFKA_BROKERS: '127.0.0.1:19092',
  MW_DATABASE_URL: 'postgresql://u:p@127.0.0.1:5433/db',
  MW_DATABASE_SCHEMA: 'exchange_connector',
  MW_HTTP_PORT: '7101',
  MW_LDAP_URL: 'ldap://exch01:389',
  MW_LDAP_BIND_PASSWORD: 'secret-pw',
  MW_LDAP_BASE_DN: 'o=Contoso',
  MW_EXCHANGE_SITES: 'SiteA',
};
const problems = (env: Record<string, string>) => {
  try {
    loadConfig(configSchema, env);
  } catch (e) {
    return (e as ConfigError).problems;
  }
  return [];
};

describe('Exchange connector configuration', () => {
  it('takes MIIS connection settings (account, logon domain) and makes the Exchange 5.5 bind DN', () => {
    const c = loadConfig(configSchema, { ...base, MW_EXCHANGE_ACCOUNT: 'svc-miis', MW_EXCHANGE_LOGON_DOMAIN: 'CONTOSO' });
    expect(c.ldap.bindDn).toBe('dc=CONTOSO,cn=svc-miis');
    const usn = loadConfig(configSchema, { ...base, MW_EXCHANGE_ACCOUNT: 'svc-miis', MW_EXCHANGE_LOGON_DOMAIN: 'CONTOSO', MW_EXCHANGE_DELTA_STRATEGY: 'usn' });
    expect(usn.ldap.bindDn).toBe('dc=CONTOSO,cn=svc-miis,cn=admin');
    expect(usn.deltaStrategy).toBe('usn');
    expect(usn.tombstoneLifetimeMs).toBe(30 * 24 * 3600 * 1000);
  });

  it('or a plain bind DN, as given', () => {
    expect(loadConfig(configSchema, { ...base, MW_LDAP_BIND_DN: 'cn=admin,o=Contoso' }).ldap).toMatchObject({ bindDn: 'cn=admin,o=Contoso', tls: { startTls: false, rejectUnauthorized: true } });
  });

  it('names the key of every bad setting, and never echoes the password', () => {
    expect(problems(base)).toEqual([{ key: 'MW_LDAP_BIND_DN', message: expect.stringMatching(/MW_EXCHANGE_ACCOUNT and MW_EXCHANGE_LOGON_DOMAIN/) }]);
    expect(problems({ ...base, MW_LDAP_BIND_DN: 'cn=a', MW_EXCHANGE_ACCOUNT: 'x', MW_EXCHANGE_LOGON_DOMAIN: 'D' })[0]).toMatchObject({ key: 'MW_LDAP_BIND_DN', message: expect.stringMatching(/not both/) });
    expect(problems({ ...base, MW_EXCHANGE_ACCOUNT: 'x' })[0]).toMatchObject({ key: 'MW_EXCHANGE_LOGON_DOMAIN' });
    expect(problems({ ...base, MW_LDAP_BIND_DN: 'cn=a', MW_EXCHANGE_DELTA_STRATEGY: 'changelog' })[0]).toMatchObject({ key: 'MW_EXCHANGE_DELTA_STRATEGY' });
    expect(problems({ ...base, MW_LDAP_BIND_DN: 'cn=a', MW_LDAP_URL: 'ldaps://exch01:636', MW_LDAP_STARTTLS: 'true' })[0]).toMatchObject({ key: 'MW_LDAP_STARTTLS' });
    expect(JSON.stringify(problems({ ...base, MW_EXCHANGE_ACCOUNT: 'x' }))).not.toContain('secret-pw');
    expect(problems({ ...base, MW_LDAP_BIND_DN: 'cn=a', MW_EXCHANGE_CONTAINERS: '{"SiteZ":{"include":["cn=Recipients"]}}' })[0]).toMatchObject({
      key: 'MW_EXCHANGE_CONTAINERS',
      message: expect.stringMatching(/unknown site 'SiteZ'/),
    });
    expect(problems({ ...base, MW_LDAP_BIND_DN: 'cn=a', MW_EXCHANGE_CONTAINERS: '{not json' })[0]).toMatchObject({ key: 'MW_EXCHANGE_CONTAINERS' });
    expect(problems({ ...base, MW_LDAP_BIND_DN: 'cn=a', MW_EXCHANGE_CONTAINERS: '{"SiteA":{"include":["Recipients"]}}' })[0]).toMatchObject({ key: 'MW_EXCHANGE_CONTAINERS' });
  });

  it('takes include/exclude containers per site', () => {
    const c = loadConfig(configSchema, { ...base, MW_LDAP_BIND_DN: 'cn=a', MW_EXCHANGE_CONTAINERS: '{"SiteA":{"include":["cn=Recipients"],"exclude":["cn=Hidden,cn=Recipients"]}}' });
    expect(c.containers).toEqual({ SiteA: { include: ['cn=Recipients'], exclude: ['cn=Hidden,cn=Recipients'] } });
  });
});

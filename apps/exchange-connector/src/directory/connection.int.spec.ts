import { Attribute, Client } from 'ldapts';
import { freePort, stackEnv, uniqueSuffix } from '@metaweave/testing';
import { ExchangeDirectory, type ExchangeDirectoryOptions } from './exchange-directory';

jest.setTimeout(60_000);

/** `test()` (what `mw connector test exchange` shows) against the live slapd stand-in. */
describe('Exchange connection test', () => {
  const env = stackEnv();
  const site = `Conn${uniqueSuffix()}`;
  const base = `ou=${site},${env['MW_LDAP_BASE_DN']}`;
  const reader = `cn=reader,cn=Recipients,${base}`;
  const admin: ExchangeDirectoryOptions = {
    name: 'exchange',
    url: env['MW_LDAP_URL']!,
    bindDn: env['MW_LDAP_BIND_DN']!,
    bindPassword: env['MW_LDAP_BIND_PASSWORD']!,
    baseDn: env['MW_LDAP_BASE_DN']!,
    sites: [site],
  };
  const ldap = async <T>(work: (c: Client) => Promise<T>): Promise<T> => {
    const c = new Client({ url: admin.url });
    await c.bind(admin.bindDn, admin.bindPassword);
    try {
      return await work(c);
    } finally {
      await c.unbind();
    }
  };
  const a = (x: Record<string, string | string[]>) => Object.entries(x).map(([type, v]) => new Attribute({ type, values: Array.isArray(v) ? v : [v] }));

  beforeAll(() =>
    ldap(async (c) => {
      await c.add(base, a({ objectClass: 'organizationalUnit', ou: site }));
      await c.add(`cn=Recipients,${base}`, a({ objectClass: 'ex55Container', cn: 'Recipients' }));
      await c.add(reader, a({ objectClass: ['top', 'person', 'organizationalPerson', 'ex55Mailbox'], cn: 'Reader', sn: 'Reader', uid: 'reader', userPassword: 'Reader-Only-7' }));
    }),
  );
  afterAll(() =>
    ldap(async (c) => {
      const { searchEntries } = await c.search(base, { scope: 'sub', attributes: ['1.1'] });
      for (const dn of searchEntries.map((e) => e.dn).sort((x, y) => y.length - x.length)) await c.del(dn);
    }),
  );

  it('an administrator may read and write, and the probe leaves nothing behind', async () => {
    const r = await new ExchangeDirectory(admin).test();
    expect(r).toMatchObject({ reachable: true, canRead: true, canWrite: true });
    expect(r.detail).toMatch(/administrator rights: export possible/);
    const left = await ldap((c) => c.search(base, { scope: 'sub', filter: '(cn=mw-rights-probe-*)', attributes: ['1.1'] }));
    expect(left.searchEntries).toEqual([]);
  });

  it('a read-only account: reads, may not write, and is told what export needs', async () => {
    const r = await new ExchangeDirectory({ ...admin, bindDn: reader, bindPassword: 'Reader-Only-7' }).test();
    expect(r).toMatchObject({ reachable: true, canRead: true, canWrite: false });
    expect(r.detail).toMatch(/read-only .* export needs administrator permissions/);
  });

  it('wrong credentials, an unknown site, StartTLS a server does not offer, an unreachable server: each says which setting to check', async () => {
    const wrong = await new ExchangeDirectory({ ...admin, bindPassword: 'not-the-password' }).test();
    expect(wrong).toMatchObject({ reachable: true, canRead: false });
    expect(wrong.detail).toMatch(/bind refused .* check MW_LDAP_BIND_DN and MW_LDAP_BIND_PASSWORD/);
    expect(wrong.detail).not.toContain('not-the-password');

    const unknown = await new ExchangeDirectory({ ...admin, sites: ['NoSuchSite'] }).test();
    expect(unknown).toMatchObject({ reachable: true, canRead: false });
    expect(unknown.detail).toMatch(/unknown site 'NoSuchSite'.*MW_EXCHANGE_SITES/);

    const noTls = await new ExchangeDirectory({ ...admin, tls: { startTls: true } }).test();
    expect(noTls).toMatchObject({ reachable: true, canRead: false });
    expect(noTls.detail).toMatch(/StartTLS refused by .*check MW_LDAP_STARTTLS/);

    const down = await new ExchangeDirectory({ ...admin, url: `ldap://127.0.0.1:${await freePort()}` }).test();
    expect(down).toMatchObject({ reachable: false, canRead: false });
    expect(down.detail).toMatch(/unreachable .* MW_LDAP_URL/);
  });
});

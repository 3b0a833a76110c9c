import { Attribute, Change, Client } from 'ldapts';
// The suite lives with the SPI it checks, in a test-only file (not part of the library's build).
import { connectorContract, type ContractDirectory } from '../../../../libs/connector-sdk/src/int-support';
import { UsnDirectory, freePort, stackEnv, uniqueSuffix } from '@metaweave/testing';
import { ExchangeDirectory, type ExchangeDirectoryOptions } from './exchange-directory';

jest.setTimeout(120_000);

const mailbox = (name: string) => ({
  objectClass: ['top', 'person', 'organizationalPerson', 'ex55Mailbox'],
  cn: `Display ${name}`,
  rdn: name,
  uid: name,
  sn: name,
  mail: `${name}@contoso.com`,
});
const attributes = (a: Record<string, string | string[]>) => Object.entries(a).map(([type, v]) => new Attribute({ type, values: Array.isArray(v) ? v : [v] }));
const identifies = (image: { dn: string }, name: string) => image.dn.toLowerCase().startsWith(`cn=${name.toLowerCase()},`);

// 1. The live slapd stand-in (accesslog strategy), on a site of this file's own.
{
  const env = stackEnv();
  const site = `Contract${uniqueSuffix()}`;
  const base = `ou=${site},${env['MW_LDAP_BASE_DN']}`;
  const recipients = `cn=Recipients,${base}`;
  const options: ExchangeDirectoryOptions = {
    name: 'exchange',
    url: env['MW_LDAP_URL']!,
    bindDn: env['MW_LDAP_BIND_DN']!,
    bindPassword: env['MW_LDAP_BIND_PASSWORD']!,
    baseDn: env['MW_LDAP_BASE_DN']!,
    sites: [site],
  };
  const ldap = async <T>(work: (c: Client) => Promise<T>): Promise<T> => {
    const c = new Client({ url: options.url, timeout: 30_000, connectTimeout: 5_000 });
    await c.bind(options.bindDn, options.bindPassword);
    try {
      return await work(c);
    } finally {
      await c.unbind();
    }
  };
  const directory: ContractDirectory = {
    add: (name) => ldap((c) => c.add(`cn=${name},${recipients}`, attributes(mailbox(name)))),
    modify: async (name, value) => {
      await ldap((c) => c.modify(`cn=${name},${recipients}`, [new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [value] }) })]));
      return 'title';
    },
    rename: (name, newName) => ldap((c) => c.modifyDN(`cn=${name},${recipients}`, `cn=${newName}`)),
    remove: (name) => ldap((c) => c.del(`cn=${name},${recipients}`)),
  };
  connectorContract({
    title: 'exchange, accesslog strategy, live slapd stand-in',
    partition: site,
    connector: () => new ExchangeDirectory(options),
    unreachable: async () => new ExchangeDirectory({ ...options, url: `ldap://127.0.0.1:${await freePort()}` }),
    directory,
    identifies,
    setup: () =>
      ldap(async (c) => {
        await c.add(base, attributes({ objectClass: 'organizationalUnit', ou: site }));
        await c.add(recipients, attributes({ objectClass: 'ex55Container', cn: 'Recipients' }));
      }),
    teardown: () =>
      ldap(async (c) => {
        const { searchEntries } = await c.search(base, { scope: 'sub', attributes: ['1.1'] });
        for (const dn of searchEntries.map((e) => e.dn).sort((a, b) => b.length - a.length)) await c.del(dn);
      }),
  });
}

// 2. A USN-keeping directory (usn strategy, the real Exchange 5.5 change tracking; ADR 0050).
{
  const usn = new UsnDirectory('Contoso', 'UsnContract');
  let options: ExchangeDirectoryOptions;
  connectorContract({
    title: 'exchange, usn strategy, USN-keeping directory',
    partition: 'UsnContract',
    connector: () => new ExchangeDirectory(options),
    unreachable: async () => new ExchangeDirectory({ ...options, url: `ldap://127.0.0.1:${await freePort()}` }),
    directory: {
      add: async (name) => void (await usn.add(name, mailbox(name))),
      modify: async (name, value) => {
        await usn.modify(`cn=${name},${usn.recipients}`, { title: value });
        return 'title';
      },
      rename: async (name, newName) => void (await usn.rename(`cn=${name},${usn.recipients}`, newName)),
      remove: (name) => usn.remove(`cn=${name},${usn.recipients}`),
    },
    identifies,
    setup: async () => {
      await usn.create();
      options = {
        name: 'exchange',
        url: usn.url,
        bindDn: usn.slapd.adminDn,
        bindPassword: usn.slapd.adminPassword,
        baseDn: 'o=Contoso',
        sites: ['UsnContract'],
        deltaStrategy: 'usn',
      };
    },
    teardown: () => usn.dispose(),
  });
}

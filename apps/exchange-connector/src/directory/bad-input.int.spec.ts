import { RunDriver } from '@metaweave/connector-runtime';
import { quoteIdent, type Logger } from '@metaweave/messaging';
import { stackEnv, uniqueSuffix } from '@metaweave/testing';
import { Attribute, Client } from 'ldapts';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { ExchangeDirectory } from './exchange-directory';
import { openConnectorSpace } from '../../../../libs/connector-runtime/src/int-support';

jest.setTimeout(120_000);

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Malformed directory data on the live stand-in: a per-object error, the rest imported, no delete from a read with errors. */
describe('malformed SID bytes in the directory', () => {
  const env = stackEnv();
  const suffix = uniqueSuffix();
  const site = `Bad${suffix}`;
  const base = `ou=${site},${env['MW_LDAP_BASE_DN']}`;
  const recipients = `cn=Recipients,${base}`;
  const schema = `int_bad_${suffix}`;
  const pool = new Pool({ connectionString: env['MW_PG_ADMIN_URL'], max: 2 });
  let db: DataSource;
  let driver: RunDriver;
  const good = Buffer.from('AQUAAAAAAAUVAAAAESIzRFVmd4iZuqvM6QMAAA==', 'base64');
  const ldap = async <T>(work: (c: Client) => Promise<T>): Promise<T> => {
    const c = new Client({ url: env['MW_LDAP_URL']! });
    await c.bind(env['MW_LDAP_BIND_DN']!, env['MW_LDAP_BIND_PASSWORD']!);
    try {
      return await work(c);
    } finally {
      await c.unbind();
    }
  };
  const mailbox = (name: string, sid: Buffer) => [
    ...Object.entries({ objectClass: ['top', 'person', 'organizationalPerson', 'ex55Mailbox'], cn: [name], sn: [name], uid: [name] }).map(([type, values]) => new Attribute({ type, values })),
    new Attribute({ type: 'Assoc-NT-Account', values: [sid] }),
  ];

  beforeAll(async () => {
    await ldap(async (c) => {
      await c.add(base, [new Attribute({ type: 'objectClass', values: ['organizationalUnit'] }), new Attribute({ type: 'ou', values: [site] })]);
      await c.add(recipients, [new Attribute({ type: 'objectClass', values: ['ex55Container'] }), new Attribute({ type: 'cn', values: ['Recipients'] })]);
      await c.add(`cn=ok1,${recipients}`, mailbox('ok1', good));
      await c.add(`cn=ok2,${recipients}`, mailbox('ok2', good));
      await c.add(`cn=broken,${recipients}`, mailbox('broken', good.subarray(0, 7)));
    });
    db = await openConnectorSpace(pool, env['MW_PG_ADMIN_URL']!, schema);
    const connector = new ExchangeDirectory({
      name: 'exchange',
      url: env['MW_LDAP_URL']!,
      bindDn: env['MW_LDAP_BIND_DN']!,
      bindPassword: env['MW_LDAP_BIND_PASSWORD']!,
      baseDn: env['MW_LDAP_BASE_DN']!,
      sites: [site],
    });
    driver = new RunDriver({ db, schema, connector, topic: 'bad.mw.cs.changes', source: 'bad-input-test', logger: silent });
  });
  afterAll(async () => {
    await db?.destroy();
    await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await pool.end();
    await ldap(async (c) => {
      const { searchEntries } = await c.search(base, { scope: 'sub', attributes: ['1.1'] });
      for (const dn of searchEntries.map((e) => e.dn).sort((x, y) => y.length - x.length)) await c.del(dn);
    });
  });

  it('reports the object, imports the others, and withholds deletes while the error stands', async () => {
    const first = await (await driver.start('full-import', site)).done;
    expect(first).toMatchObject({ status: 'completed-with-errors', counters: expect.objectContaining({ stageAdd: 2, stageFailure: 1 }) });
    const runs = await driver.listRuns(site);
    expect(runs[0]!.errors).toEqual([{ object: `cn=broken,${recipients}`, type: 'invalid-sid', message: expect.stringMatching(/7 bytes, a SID needs at least 8/) }]);

    await ldap((c) => c.del(`cn=ok2,${recipients}`));
    const second = await (await driver.start('full-import', site)).done;
    expect(second).toMatchObject({ status: 'completed-with-errors', deletesWithheld: 1, counters: expect.objectContaining({ stageDelete: 0, stageFailure: 1 }) });
    const [row] = (await pool.query(`SELECT retry_count FROM ${quoteIdent(schema)}.object_error WHERE object = $1`, [`cn=broken,${recipients}`])).rows;
    expect(row.retry_count).toBe(1);
  });
});

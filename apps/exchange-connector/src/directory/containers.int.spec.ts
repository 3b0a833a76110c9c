import { RunDriver, type RunRecord } from '@metaweave/connector-runtime';
import { decodeMessage, type CsObjectChangedV1, type Message } from '@metaweave/contracts';
import { quoteIdent, type Logger } from '@metaweave/messaging';
import { stackEnv, uniqueSuffix } from '@metaweave/testing';
import { Attribute, Change, Client } from 'ldapts';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { ExchangeDirectory } from './exchange-directory';
import { openConnectorSpace } from '../../../../libs/connector-runtime/src/int-support';

jest.setTimeout(120_000);

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Include/exclude containers per site (MIIS "Configure Sites"), on the live slapd stand-in. */
describe('containers in scope of a site', () => {
  const env = stackEnv();
  const suffix = uniqueSuffix();
  const site = `Scope${suffix}`;
  const base = `ou=${site},${env['MW_LDAP_BASE_DN']}`;
  const recipients = `cn=Recipients,${base}`;
  const hidden = `cn=Hidden,${recipients}`;
  const other = `cn=Other,${base}`;
  const schema = `int_scope_${suffix}`;
  const pool = new Pool({ connectionString: env['MW_PG_ADMIN_URL'], max: 2 });
  let db: DataSource;
  let driver: RunDriver;
  const a = (x: Record<string, string | string[]>) => Object.entries(x).map(([type, v]) => new Attribute({ type, values: Array.isArray(v) ? v : [v] }));
  const mailbox = (name: string) => a({ objectClass: ['top', 'person', 'organizationalPerson', 'ex55Mailbox'], cn: `Display ${name}`, sn: name, uid: name, rdn: name });
  const ldap = async <T>(work: (c: Client) => Promise<T>): Promise<T> => {
    const c = new Client({ url: env['MW_LDAP_URL']! });
    await c.bind(env['MW_LDAP_BIND_DN']!, env['MW_LDAP_BIND_PASSWORD']!);
    try {
      return await work(c);
    } finally {
      await c.unbind();
    }
  };

  beforeAll(async () => {
    await ldap(async (c) => {
      await c.add(base, a({ objectClass: 'organizationalUnit', ou: site }));
      for (const dn of [recipients, hidden, other]) await c.add(dn, a({ objectClass: 'ex55Container', cn: dn.slice(3, dn.indexOf(',')) }));
      await c.add(`cn=in1,${recipients}`, mailbox('in1'));
      await c.add(`cn=in2,${recipients}`, mailbox('in2'));
      await c.add(`cn=hid1,${hidden}`, mailbox('hid1'));
      await c.add(`cn=oth1,${other}`, mailbox('oth1'));
    });
    db = await openConnectorSpace(pool, env['MW_PG_ADMIN_URL']!, schema);
    const connector = new ExchangeDirectory({
      name: 'exchange',
      url: env['MW_LDAP_URL']!,
      bindDn: env['MW_LDAP_BIND_DN']!,
      bindPassword: env['MW_LDAP_BIND_PASSWORD']!,
      baseDn: env['MW_LDAP_BASE_DN']!,
      sites: [site],
      containers: { [site]: { include: ['cn=Recipients'], exclude: ['cn=Hidden,cn=Recipients'] } },
    });
    driver = new RunDriver({ db, schema, connector, topic: 'scope.mw.cs.changes', source: 'scope-test', logger: silent });
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

  let seen = 0;
  async function run(step: 'full-import' | 'delta-import'): Promise<{ record: RunRecord; events: CsObjectChangedV1[] }> {
    const record = await (await driver.start(step, site)).done;
    const { rows } = await pool.query(`SELECT id, value FROM ${quoteIdent(schema)}.outbox WHERE id > $1 ORDER BY id`, [seen]);
    if (rows.length > 0) seen = Number(rows[rows.length - 1].id);
    const events = rows.map((r) => decodeMessage(r.value)).filter((m): m is Message<'cs.object.changed'> => m.type === 'cs.object.changed');
    return { record, events: events.map((m) => m.data) };
  }
  const changes = (events: CsObjectChangedV1[]) => events.map((e) => [e.change, e.dn.slice(0, e.dn.indexOf(','))]);

  it('a full import reads the included containers only, without the excluded ones', async () => {
    const { record, events } = await run('full-import');
    expect(record.status).toBe('completed');
    expect(changes(events).sort()).toEqual([
      ['add', 'cn=in1'],
      ['add', 'cn=in2'],
    ]);
  });

  it('a delta: changes out of scope are nothing; moved out of scope is a delete, moved in an add', async () => {
    await ldap(async (c) => {
      await c.add(`cn=hid2,${hidden}`, mailbox('hid2'));
      await c.modify(`cn=oth1,${other}`, [new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: ['Elsewhere'] }) })]);
      await c.modifyDN(`cn=in2,${recipients}`, `cn=in2,${hidden}`);
      await c.modifyDN(`cn=hid1,${hidden}`, `cn=hid1,${recipients}`);
    });
    const { record, events } = await run('delta-import');
    expect(record.step).toBe('delta-import');
    expect(changes(events).sort()).toEqual([
      ['add', 'cn=hid1'],
      ['delete', 'cn=in2'],
    ]);
  });
});

import { RunDriver, type RunRecord } from '@metaweave/connector-runtime';
import { decodeMessage, type CsObjectChangedV1, type Message } from '@metaweave/contracts';
import { quoteIdent, type Logger } from '@metaweave/messaging';
import { PrivateSlapd, UsnDirectory, generateExchangeSite, siteLdif, stackEnv, toLdif, uniqueSuffix, type GeneratedSite } from '@metaweave/testing';
import type { Client } from 'ldapts';
import { Attribute, Change } from 'ldapts';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { ExchangeDirectory } from './exchange-directory';
import { openConnectorSpace } from '../../../../libs/connector-runtime/src/int-support';

jest.setTimeout(600_000);

const N = Number(process.env['MW_ACCEPTANCE_N'] ?? 10_000);
const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const ORG = 'Contoso';
const SITE = 'Big';
const RECIPIENTS = `cn=Recipients,ou=${SITE},o=${ORG}`;

interface Target {
  readonly url: string;
  readonly bindDn: string;
  readonly bindPassword: string;
  add(rdn: string, attributes: Record<string, string[]>): Promise<void>;
  modify(dn: string, title: string): Promise<void>;
  rename(dn: string, newRdn: string): Promise<void>;
  remove(dn: string): Promise<void>;
  dispose(): Promise<void>;
}

/** The site on a private slapd that logs to cn=accesslog, like the stand-in; bulk-loaded with slapadd. */
async function accesslogTarget(site: GeneratedSite): Promise<Target> {
  const slapd = new PrivateSlapd({ suffix: `o=${ORG}`, accesslog: true });
  slapd.create(
    [
      toLdif(`o=${ORG}`, { objectClass: ['organization'], o: [ORG] }),
      toLdif(`ou=${SITE},o=${ORG}`, { objectClass: ['organizationalUnit'], ou: [SITE] }),
      toLdif(RECIPIENTS, { objectClass: ['ex55Container'], cn: ['Recipients'] }),
      ...siteLdif(site),
    ].join('\n'),
  );
  await slapd.start();
  const ldap = async (work: (c: Client) => Promise<unknown>) => {
    const c = await slapd.client();
    try {
      await work(c);
    } finally {
      await c.unbind();
    }
  };
  return {
    url: slapd.url,
    bindDn: slapd.adminDn,
    bindPassword: slapd.adminPassword,
    add: (rdn, a) => ldap((c) => c.add(`cn=${rdn},${RECIPIENTS}`, Object.entries(a).map(([type, values]) => new Attribute({ type, values })))),
    modify: (dn, title) => ldap((c) => c.modify(dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [title] }) })])),
    rename: (dn, newRdn) => ldap((c) => c.modifyDN(dn, `cn=${newRdn}`)),
    remove: (dn) => ldap((c) => c.del(dn)),
    dispose: () => slapd.dispose(),
  };
}

/** The site on a USN-keeping directory (the real Exchange 5.5 change tracking, ADR 0050). */
async function usnTarget(site: GeneratedSite): Promise<Target> {
  const dir = new UsnDirectory(ORG, SITE);
  await dir.create(siteLdif(site));
  return {
    url: dir.url,
    bindDn: dir.slapd.adminDn,
    bindPassword: dir.slapd.adminPassword,
    add: async (rdn, a) => void (await dir.add(rdn, a)),
    modify: (dn, title) => dir.modify(dn, { title }),
    rename: async (dn, newRdn) => void (await dir.rename(dn, newRdn)),
    remove: (dn) => dir.remove(dn),
    dispose: () => dir.dispose(),
  };
}

/**
 * The acceptance of issue 3 on a generated site of N (default 10,000) recipients: full import,
 * then the directory is changed directly (add 10, modify 100, delete 10, rename 5): a delta import
 * emits exactly those changes and its counters say so; a second delta emits nothing. Once per
 * delta strategy.
 */
describe.each([
  ['accesslog', accesslogTarget],
  ['usn', usnTarget],
] as const)(`%s strategy: a ${N}-recipient site, changed directly`, (strategy, makeTarget) => {
  const schema = `int_acc_${strategy}_${uniqueSuffix()}`;
  const pool = new Pool({ connectionString: stackEnv()['MW_PG_ADMIN_URL'], max: 2 });
  const site = generateExchangeSite({ org: ORG, site: SITE, recipients: N });
  let target: Target;
  let db: DataSource;
  let driver: RunDriver;

  beforeAll(async () => {
    target = await makeTarget(site);
    db = await openConnectorSpace(pool, stackEnv()['MW_PG_ADMIN_URL']!, schema);
    const connector = new ExchangeDirectory({
      name: 'exchange',
      url: target.url,
      bindDn: target.bindDn,
      bindPassword: target.bindPassword,
      baseDn: `o=${ORG}`,
      sites: [SITE],
      deltaStrategy: strategy,
    });
    driver = new RunDriver({ db, schema, connector, topic: 'acceptance.mw.cs.changes', source: 'acceptance-test', logger: silent });
  });

  afterAll(async () => {
    await db?.destroy();
    await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await pool.end();
    await target?.dispose();
  });

  const run = async (step: 'full-import' | 'delta-import'): Promise<RunRecord> => (await driver.start(step, SITE)).done;
  let seen = 0;
  async function newEvents(): Promise<CsObjectChangedV1[]> {
    const { rows } = await pool.query(`SELECT id, value FROM ${quoteIdent(schema)}.outbox WHERE id > $1 ORDER BY id`, [seen]);
    if (rows.length > 0) seen = Number(rows[rows.length - 1].id);
    return rows
      .map((r) => decodeMessage(r.value))
      .filter((m): m is Message<'cs.object.changed'> => m.type === 'cs.object.changed')
      .map((m) => m.data);
  }

  it('full import stages every generated recipient', async () => {
    const r = await run('full-import');
    expect(r).toMatchObject({ status: 'completed', deletesWithheld: 0 });
    expect(r.counters).toMatchObject({ stageAdd: N, stageFailure: 0 });
    const events = await newEvents();
    expect(events).toHaveLength(N);
    // what the generator promised is what was imported
    expect(site.counts.resource).toBeGreaterThan(0);
    expect(site.counts.nosid).toBeGreaterThan(0);
    expect(site.counts.certificates).toBeGreaterThan(0);
    expect(site.counts.emptyList).toBeGreaterThan(0);
    expect(site.counts.nestedLists).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.objectType))).toEqual(new Set(['mailbox', 'customRecipient', 'distributionList']));
  });

  it('add 10, modify 100, delete 10, rename 5: the delta emits exactly those, and its counters say so', async () => {
    const mailboxes = site.recipients.filter((r) => r.kind === 'mailbox');
    const modified = mailboxes.slice(0, 100).map((r) => r.dn);
    const deleted = mailboxes.slice(100, 110).map((r) => r.dn);
    const renamed = mailboxes.slice(110, 115);
    const added = Array.from({ length: 10 }, (_, i) => `new${i}`);
    for (const rdn of added) {
      await target.add(rdn, { objectClass: ['top', 'person', 'organizationalPerson', 'ex55Mailbox'], cn: [`Neu Ångström ${rdn}`], rdn: [rdn], uid: [rdn], sn: ['Ångström'] });
    }
    for (const dn of modified) await target.modify(dn, 'Changed Title');
    for (const dn of deleted) await target.remove(dn);
    for (const r of renamed) await target.rename(r.dn, `${r.rdn}-renamed`);

    const d = await run('delta-import');
    expect(d).toMatchObject({ step: 'delta-import', status: 'completed' });
    expect(d.counters).toMatchObject({ stageAdd: 10, stageUpdate: 100, stageDelete: 10, stageRename: 5, stageFailure: 0 });
    const events = await newEvents();
    const by = (change: string) => events.filter((e) => e.change === change).map((e) => e.dn.toLowerCase()).sort();
    const low = (xs: string[]) => xs.map((x) => x.toLowerCase()).sort();
    expect(events).toHaveLength(125);
    expect(by('add')).toEqual(low(added.map((rdn) => `cn=${rdn},${RECIPIENTS}`)));
    expect(by('update')).toEqual(low(modified));
    expect(by('delete')).toEqual(low(deleted));
    expect(by('rename')).toEqual(low(renamed.map((r) => `cn=${r.rdn}-renamed,${RECIPIENTS}`)));
    for (const e of events.filter((x) => x.change === 'update')) expect(e.delta).toEqual([{ name: 'title', op: 'replace', values: ['Changed Title'] }]);
  });

  it('a second delta import emits nothing', async () => {
    const d = await run('delta-import');
    expect(d.counters).toMatchObject({ stageAdd: 0, stageUpdate: 0, stageDelete: 0, stageRename: 0 });
    expect(await newEvents()).toEqual([]);
  });
});

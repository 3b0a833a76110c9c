import { Attribute, Change, Client } from 'ldapts';
import { SamrBridge, accountSid, sidFromString, sidToString } from '@metaweave/samr';
import { api, urls, waitFor } from './api';
import { stackEnv } from './workspace';

/** The demo's NT4 slice: accounts for two of the four mailboxes, and one with no mailbox at all. */
export const DEMO_ACCOUNTS = ['jsmith', 'mgarcia', 'svc-backup'] as const;
/** Mailboxes without an NT account: the default rules provision one each (`CONTOSO\<uid>`). */
export const DEMO_PROVISIONED = ['wchen', 'aokafor'] as const;

/**
 * A small Contoso: two sites of mailboxes, a custom recipient and distribution lists (one nested,
 * one empty). `sids` holds the SID of each mailbox's NT4 account; the others get none.
 */
export function demoEntries(baseDn: string, sids: Readonly<Record<string, string>>) {
  // Assoc-NT-Account: the binary SID of an account in the stand-in NT4 domain (MS-DTYP 2.4.2.2).
  const people = [
    { alias: 'jsmith', given: 'John', sn: 'Smith', site: 'SiteA', dept: 'IT' },
    { alias: 'mgarcia', given: 'Maria', sn: 'Garcia', site: 'SiteA', dept: 'Finance' },
    { alias: 'wchen', given: 'Wei', sn: 'Chen', site: 'SiteB', dept: 'Sales' },
    { alias: 'aokafor', given: 'Ada', sn: 'Okafor', site: 'SiteB', dept: 'IT' },
  ];
  // Named by display name: the directory adds the RDN value to `cn`, which must stay one value
  // (it flows to displayName and on to NT4 fullName, single-valued).
  const names: Record<string, string> = Object.fromEntries([
    ...people.map((p) => [p.alias, `${p.given} ${p.sn}`]),
    ['jdoe-ext', 'Jane Doe (external)'],
    ['All-IT', 'All IT'],
    ['All-Staff', 'All Staff'],
    ['Lunch-Club', 'Lunch Club'],
  ]);
  const dn = (alias: string, site: string) => `cn=${names[alias]},cn=Recipients,ou=${site},${baseDn}`;
  const org = baseDn.replace(/^o=/i, '');
  const list = (alias: string, cn: string, site: string, member: string[]) => ({
    dn: dn(alias, site),
    attributes: { objectClass: ['top', 'groupOfNames', 'ex55DistributionList'], cn, rdn: alias, uid: alias, mail: `${alias.toLowerCase()}@contoso.com`, member } as Record<string, string | string[] | Buffer>,
  });
  return [
    ...people.map((p) => ({
      dn: dn(p.alias, p.site),
      attributes: {
        objectClass: ['top', 'person', 'organizationalPerson', 'ex55Mailbox'],
        cn: `${p.given} ${p.sn}`,
        rdn: p.alias,
        uid: p.alias,
        givenName: p.given,
        sn: p.sn,
        department: p.dept,
        mail: `${p.alias}@contoso.com`,
        textEncodedORAddress: `c=US;a= ;p=${org};o=${p.site};s=${p.sn};g=${p.given};`,
        mailPreferenceOption: '0',
        ...(sids[p.alias] ? { 'Assoc-NT-Account': sidFromString(sids[p.alias]!) } : {}),
        'Home-MDB': `cn=Microsoft Private MDB,cn=EXCH01,cn=Servers,cn=Configuration,ou=${p.site},${baseDn}`,
      } as Record<string, string | string[] | Buffer>,
    })),
    {
      dn: dn('jdoe-ext', 'SiteA'),
      attributes: {
        objectClass: ['top', 'Remote-Address'],
        cn: 'Jane Doe (external)',
        rdn: 'jdoe-ext',
        uid: 'jdoe-ext',
        mail: 'jdoe@example.net',
        'Target-Address': 'SMTP:jdoe@example.net',
      } as Record<string, string | string[] | Buffer>,
    },
    list('All-IT', 'All IT', 'SiteA', [dn('jsmith', 'SiteA'), dn('aokafor', 'SiteB')]),
    list('All-Staff', 'All Staff', 'SiteA', [dn('All-IT', 'SiteA'), dn('mgarcia', 'SiteA'), dn('wchen', 'SiteB'), dn('jdoe-ext', 'SiteA')]),
    list('Lunch-Club', 'Lunch Club', 'SiteB', ['']),
  ];
}

/** The demo's NT4 accounts, created when missing; returns each one's SID. */
export async function ensureDemoAccounts(env = stackEnv()): Promise<Record<string, string>> {
  const bridge = await SamrBridge.start();
  try {
    const domain = await bridge.connect({
      host: env['MW_SAMBA_HOST']!,
      port: Number(env['MW_SAMBA_PORT'] ?? 445),
      domain: env['MW_SAMBA_DOMAIN']!,
      username: env['MW_SAMBA_ADMIN_USER']!,
      password: env['MW_SAMBA_ADMIN_PASSWORD']!,
      clientConf: env['MW_SAMBA_CLIENT_CONF'],
    });
    const existing = new Map((await domain.enumerateUsers()).map((u) => [u.accountName.toLowerCase(), u.rid]));
    const sids: Record<string, string> = {};
    let created = 0;
    for (const name of DEMO_ACCOUNTS) {
      let rid = existing.get(name);
      if (rid === undefined) {
        rid = (await domain.createUser({ accountName: name, fields: { fullName: name, description: 'Metaweave demo (mw demo)' } })).rid;
        created++;
      }
      sids[name] = accountSid(domain.description.domainSid, rid);
    }
    console.log(`demo NT4 domain ${env['MW_SAMBA_DOMAIN']}: ${created} accounts added, ${DEMO_ACCOUNTS.length - created} already there (${DEMO_ACCOUNTS.join(', ')})`);
    return sids;
  } finally {
    await bridge.close();
  }
}

/** What the demo expects to see once synchronized. */
export interface DemoExpectation {
  readonly persons: number;
  readonly contacts: number;
  readonly groups: number;
}

/**
 * Adds the demo's NT4 accounts and recipients that are not there yet (a second run adds nothing,
 * and puts a matched mailbox's Assoc-NT-Account back if it points elsewhere).
 */
export async function seedDemoDirectory(): Promise<DemoExpectation> {
  const env = stackEnv();
  const sids = await ensureDemoAccounts(env);
  const client = new Client({ url: env['MW_LDAP_URL']!, connectTimeout: 10_000, timeout: 30_000 });
  await client.bind(env['MW_LDAP_BIND_DN']!, env['MW_LDAP_BIND_PASSWORD']!);
  const entries = demoEntries(env['MW_LDAP_BASE_DN']!, sids);
  let added = 0;
  try {
    // Earlier demos named entries by alias (cn=jsmith,…): remove those, the entries below replace them.
    for (const e of entries) {
      const [, rest] = /^cn=[^,]+,(.*)$/.exec(e.dn)!;
      const old = `cn=${String(e.attributes['uid'])},${rest}`;
      if (old.toLowerCase() !== e.dn.toLowerCase()) await client.del(old).catch(() => undefined);
    }
    await client.del(`cn=Everyone,cn=Recipients,ou=SiteA,${env['MW_LDAP_BASE_DN']}`).catch(() => undefined);
    for (const e of entries) {
      try {
        const attributes = Object.entries(e.attributes).map(
          ([type, v]) => new Attribute({ type, values: (Array.isArray(v) ? v : [v]) as string[] | Buffer[] }),
        );
        await client.add(e.dn, attributes);
        added++;
      } catch (error) {
        if ((error as Error).name !== 'AlreadyExistsError') throw error;
        const sid = e.attributes['Assoc-NT-Account'];
        const member = e.attributes['member'];
        if (Array.isArray(member)) {
          await client.modify(e.dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'member', values: member as string[] }) })]);
        }
        if (Buffer.isBuffer(sid)) {
          await client.modify(e.dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'Assoc-NT-Account', values: [sid] }) })]);
        }
      }
    }
  } finally {
    await client.unbind();
  }
  console.log(`demo directory: ${added} recipients added, ${entries.length - added} already there`);
  const count = (oc: string) => entries.filter((e) => (e.attributes['objectClass'] as string[]).includes(oc)).length;
  return { persons: count('ex55Mailbox'), contacts: count('Remote-Address'), groups: count('ex55DistributionList') };
}

interface Run {
  id: string;
  status: string;
  step: string;
  partition: string;
  counters: Record<string, number> | null;
  deletesWithheld: number;
  message: string | null;
}

export async function runStep(step: 'full-import' | 'delta-import', partition: string): Promise<Run> {
  const { runId } = await api<{ runId: string }>('POST', `${urls.exchange}/api/v1/runs`, { step, partition });
  return waitFor(
    `${step} of ${partition}`,
    async () => {
      const run = await api<Run>('GET', `${urls.exchange}/api/v1/runs/${runId}`);
      return run.status === 'running' ? undefined : run;
    },
    120_000,
  );
}

interface MvObject {
  id: string;
  objectType: string;
  version: number;
  attributes: Record<string, unknown[]>;
  connectors: { connector: string; anchor: string; dn: string }[];
}

const counters = (c: Record<string, number> | null) =>
  `add ${c?.['stageAdd'] ?? 0}, update ${c?.['stageUpdate'] ?? 0}, rename ${c?.['stageRename'] ?? 0}, delete ${c?.['stageDelete'] ?? 0}, failures ${c?.['stageFailure'] ?? 0}`;

async function readModel(): Promise<MvObject[]> {
  const r = await api<{ objects: MvObject[] }>('GET', `${urls.projection}/api/v1/objects?limit=1000`);
  return r.objects;
}

const DEMO_UIDS = new Set(['jsmith', 'mgarcia', 'wchen', 'aokafor', 'jdoe-ext', 'All-IT', 'All-Staff', 'Lunch-Club']);
const uidOf = (o: MvObject) => String(o.attributes['uid']?.[0] ?? '');
const first = (o: MvObject | undefined, a: string) => (o?.attributes[a]?.[0] === undefined ? '' : String(o.attributes[a]![0]));

/**
 * The README's first command ends here. Nobody starts a run: the Exchange connector imports each
 * site by itself (a full import first, then a delta import every second), the NT4 connector
 * imports the domain and applies what the join engine provisions. Waits for the scenario to
 * settle, prints a short summary, makes one live change and times its arrival, and says where to
 * look next.
 */
export async function firstSync(expected: DemoExpectation): Promise<void> {
  const env = stackEnv();
  const domain = (env['MW_SAMBA_DOMAIN'] ?? 'CONTOSO').toUpperCase();
  const started = Date.now();
  const demo = (all: MvObject[]) => all.filter((o) => DEMO_UIDS.has(uidOf(o)));
  await waitFor(
    'the read model to show every demo recipient',
    async () => {
      const objects = demo(await readModel());
      const n = (t: string) => objects.filter((o) => o.objectType === t).length;
      return n('person') >= expected.persons && n('contact') >= expected.contacts && n('group') >= expected.groups ? true : undefined;
    },
    180_000,
  );
  // Joins and provisioning take a round trip through the NT4 domain: give them time, report what is there.
  const settled = await waitFor(
    'every person joined to an NT4 account',
    async () => {
      const objects = demo(await readModel());
      const persons = objects.filter((o) => o.objectType === 'person');
      return persons.every((p) => first(p, 'ntAccount') && first(p, 'sid')) ? objects : undefined;
    },
    180_000,
  ).catch(async () => {
    console.log('\n(not every person is joined to an NT4 account yet: the summary shows where things stand; see npx mw runs)');
    return demo(await readModel());
  });
  const took = ((Date.now() - started) / 1000).toFixed(1);

  const { runs } = await api<{ runs: Run[] }>('GET', `${urls.exchange}/api/v1/runs`);
  console.log('\nExchange connector runs (started by the connector itself):');
  for (const r of runs.slice(0, 4)) console.log(`  ${r.partition.padEnd(8)} ${r.step.padEnd(13)} ${r.status.padEnd(22)} ${counters(r.counters)}`);

  const persons = settled.filter((o) => o.objectType === 'person');
  const joined = persons.filter((p) => p.connectors.some((c) => c.connector.startsWith('nt4-')));
  const client = new Client({ url: env['MW_LDAP_URL']!, connectTimeout: 10_000, timeout: 30_000 });
  await client.bind(env['MW_LDAP_BIND_DN']!, env['MW_LDAP_BIND_PASSWORD']!);
  const assoc = new Map<string, string>();
  try {
    for (const p of persons) {
      const dn = p.connectors.find((c) => c.connector === 'exchange')?.dn;
      if (!dn) continue;
      const { searchEntries } = await client.search(dn, { scope: 'base', attributes: ['Assoc-NT-Account'], explicitBufferAttributes: ['Assoc-NT-Account'] });
      const v = searchEntries[0]?.['Assoc-NT-Account'];
      const b = Array.isArray(v) ? v[0] : v;
      if (Buffer.isBuffer(b) && b.length > 0) assoc.set(uidOf(p), sidToString(b));
    }
  } finally {
    await client.unbind();
  }

  console.log(`\nSynchronized in ${took} s — the metaverse (read model at ${urls.projection}):`);
  for (const t of ['person', 'contact', 'group']) console.log(`  ${t.padEnd(8)} ${String(settled.filter((o) => o.objectType === t).length).padStart(3)}`);
  console.log(`\nJoined by SID (Exchange Assoc-NT-Account = NT4 objectSid): ${joined.length} of ${persons.length} persons`);
  for (const p of persons) {
    const provisioned = (DEMO_PROVISIONED as readonly string[]).includes(uidOf(p));
    console.log(
      `  ${first(p, 'displayName').padEnd(14)} ${(first(p, 'ntAccount') || '(no NT4 account yet)').padEnd(18)} ${first(p, 'sid').padEnd(48)} ${provisioned ? 'provisioned by Metaweave' : 'matched'}`,
    );
  }
  const flowedBack = DEMO_PROVISIONED.filter((u) => {
    const p = persons.find((x) => uidOf(x) === u);
    return p && first(p, 'sid') && assoc.get(u) === first(p, 'sid');
  });
  console.log(`\nProvisioned NT4 accounts (mailboxes that had none): ${DEMO_PROVISIONED.map((u) => `${domain}\\${u}`).join(', ')}`);
  console.log(`  their new SIDs are back in Exchange Assoc-NT-Account: ${flowedBack.length} of ${DEMO_PROVISIONED.length}${flowedBack.length ? ` (${flowedBack.join(', ')})` : ''}`);
  console.log(`NT4 account without a mailbox (a disconnector, not in the metaverse): ${domain}\\svc-backup`);
  const groups = settled.filter((o) => o.objectType === 'group');
  console.log(`Distribution lists → NT4 global groups: ${groups.map((g) => `${uidOf(g)} (${g.attributes['member']?.length ?? 0} members${first(g, 'ntAccount') ? `, ${first(g, 'ntAccount')}` : ''})`).join(', ')}`);

  const title = `Demo ${new Date().toISOString()}`;
  const live = new Client({ url: env['MW_LDAP_URL']!, connectTimeout: 10_000, timeout: 30_000 });
  await live.bind(env['MW_LDAP_BIND_DN']!, env['MW_LDAP_BIND_PASSWORD']!);
  const changed = Date.now();
  try {
    await live.modify(`cn=John Smith,cn=Recipients,ou=SiteA,${env['MW_LDAP_BASE_DN']}`, [
      new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [title] }) }),
    ]);
  } finally {
    await live.unbind();
  }
  await waitFor(
    'the live change in the read model',
    async () => {
      const r = await api<{ objects: MvObject[] }>('GET', `${urls.projection}/api/v1/objects?uid=jsmith`);
      return r.objects[0]?.attributes['title']?.[0] === title ? true : undefined;
    },
    60_000,
  );
  console.log(`\nLive change: set the title of jsmith in the Exchange directory; nobody started a run, it reached the read model in ${Date.now() - changed} ms.`);

  console.log(`
Where to look next:
  npx mw mv search --type person           the metaverse (add --json for connectors and lineage)
  npx mw mv show <id>                      one object: its connectors, per-attribute lineage, history
  npx mw runs                              the connectors' runs
  npx mw token                             a bearer token for the query API, e.g.
  curl -H "Authorization: Bearer $(npx mw token)" '${urls.projection}/api/v1/objects?type=person'
  docs/scenario.md                         what the demo did, and the scenario test and benchmark`);
}

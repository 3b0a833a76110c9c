import { Attribute, Change, Client } from 'ldapts';
import { accountSid, sidFromString } from '@metaweave/samr';
import { api, urls, waitFor } from './api';
import { stackEnv } from './workspace';

/** A small Contoso: two sites of mailboxes, a custom recipient and a distribution list. */
export function demoEntries(baseDn: string, domainSid: string) {
  // Assoc-NT-Account: the binary SID of an account in the stand-in NT4 domain (MS-DTYP 2.4.2.2).
  const sid = (rid: number) => sidFromString(accountSid(domainSid, rid));
  const people = [
    { alias: 'jsmith', given: 'John', sn: 'Smith', site: 'SiteA', dept: 'IT', rid: 1101 },
    { alias: 'mgarcia', given: 'Maria', sn: 'Garcia', site: 'SiteA', dept: 'Finance', rid: 1102 },
    { alias: 'wchen', given: 'Wei', sn: 'Chen', site: 'SiteB', dept: 'Sales', rid: 1103 },
    { alias: 'aokafor', given: 'Ada', sn: 'Okafor', site: 'SiteB', dept: 'IT', rid: 1104 },
  ];
  const dn = (alias: string, site: string) => `cn=${alias},cn=Recipients,ou=${site},${baseDn}`;
  const org = baseDn.replace(/^o=/i, '');
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
        'Assoc-NT-Account': sid(p.rid),
        'Home-MDB': `cn=Microsoft Private MDB,cn=EXCH01,cn=Servers,cn=Configuration,ou=${p.site},${baseDn}`,
      },
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
      },
    },
    {
      dn: dn('All-IT', 'SiteA'),
      attributes: {
        objectClass: ['top', 'groupOfNames', 'ex55DistributionList'],
        cn: 'All IT',
        rdn: 'All-IT',
        uid: 'All-IT',
        mail: 'all-it@contoso.com',
        member: [dn('jsmith', 'SiteA'), dn('aokafor', 'SiteB')],
      },
    },
  ];
}

/** Adds the demo recipients that are not there yet; returns how many entries the demo has. */
export async function seedDemoDirectory(): Promise<number> {
  const env = stackEnv();
  const client = new Client({ url: env['MW_LDAP_URL']!, connectTimeout: 10_000, timeout: 30_000 });
  await client.bind(env['MW_LDAP_BIND_DN']!, env['MW_LDAP_BIND_PASSWORD']!);
  const entries = demoEntries(env['MW_LDAP_BASE_DN']!, env['MW_SAMBA_DOMAIN_SID']!);
  let added = 0;
  try {
    for (const e of entries) {
      try {
        const attributes = Object.entries(e.attributes).map(
          ([type, v]) => new Attribute({ type, values: (Array.isArray(v) ? v : [v]) as string[] | Buffer[] }),
        );
        await client.add(e.dn, attributes);
        added++;
      } catch (error) {
        if ((error as Error).name !== 'AlreadyExistsError') throw error;
      }
    }
  } finally {
    await client.unbind();
  }
  console.log(`demo directory: ${added} recipients added, ${entries.length - added} already there`);
  return entries.length;
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
}

const counters = (c: Record<string, number> | null) =>
  `add ${c?.['stageAdd'] ?? 0}, update ${c?.['stageUpdate'] ?? 0}, rename ${c?.['stageRename'] ?? 0}, delete ${c?.['stageDelete'] ?? 0}, failures ${c?.['stageFailure'] ?? 0}`;

/**
 * The README's first command ends here. Nobody starts a run: the Exchange connector imports each
 * site by itself (a full import first, then a delta import every second). Show the runs and the
 * metaverse, then make a live change in the directory and time its arrival in the read model.
 */
export async function firstSync(expected: number): Promise<void> {
  const result = await waitFor(
    'the metaverse read model to show every demo recipient',
    async () => {
      const r = await api<{ count: number; objects: MvObject[] }>('GET', `${urls.projection}/api/v1/objects?limit=1000`);
      return r.count >= expected ? r : undefined;
    },
    120_000,
  );
  const { runs } = await api<{ runs: Run[] }>('GET', `${urls.exchange}/api/v1/runs`);
  console.log('\nExchange connector runs (started by the connector itself):');
  for (const r of runs.slice(0, 6)) console.log(`  ${r.partition.padEnd(8)} ${r.step.padEnd(13)} ${r.status.padEnd(22)} ${counters(r.counters)}`);
  console.log(`\nmetaverse (projection-service read model, ${result.count} objects):`);
  console.table(
    result.objects.map((o) => ({ type: o.objectType, name: String(o.attributes['cn']?.[0] ?? ''), mail: String(o.attributes['mail']?.[0] ?? ''), version: o.version })),
  );

  const title = `Demo ${new Date().toISOString()}`;
  const env = stackEnv();
  const client = new Client({ url: env['MW_LDAP_URL']!, connectTimeout: 10_000, timeout: 30_000 });
  await client.bind(env['MW_LDAP_BIND_DN']!, env['MW_LDAP_BIND_PASSWORD']!);
  const started = Date.now();
  try {
    await client.modify(`cn=jsmith,cn=Recipients,ou=SiteA,${env['MW_LDAP_BASE_DN']}`, [
      new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [title] }) }),
    ]);
  } finally {
    await client.unbind();
  }
  await waitFor(
    'the live change in the read model',
    async () => {
      const r = await api<{ objects: MvObject[] }>('GET', `${urls.projection}/api/v1/objects?uid=jsmith`);
      return r.objects[0]?.attributes['title']?.[0] === title ? true : undefined;
    },
    60_000,
  );
  console.log(`\nlive change: set title of jsmith in the Exchange directory; it reached the metaverse read model in ${Date.now() - started} ms`);
}

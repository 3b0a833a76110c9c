import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './stack';

/**
 * Fills an Exchange 5.5 site with N recipients, as LDIF for `slapadd` (bulk, offline: PrivateSlapd,
 * UsnDirectory) or entries for LDAP adds (changes, the shared stand-in). Deterministic per seed.
 * What a real site has that a naive generator forgets: unicode display names, mailboxes sharing one
 * SID (resource mailboxes, marked `NTDSNoMatch` as the ADC wants), mailboxes without SID, custom
 * recipients (`Remote-Address`), nested and empty distribution lists, certificates.
 */
export interface ExchangeSiteSpec {
  readonly org: string;
  readonly site: string;
  readonly recipients: number;
  readonly seed?: number;
  /** Domain SID the mailboxes' Assoc-NT-Account values are accounts of. */
  readonly domainSid?: string;
  readonly firstRid?: number;
}

export type GeneratedKind = 'mailbox' | 'resource' | 'nosid' | 'custom' | 'list' | 'emptyList';

export interface GeneratedRecipient {
  readonly dn: string;
  readonly rdn: string;
  readonly kind: GeneratedKind;
  readonly attributes: Readonly<Record<string, string[] | Buffer[]>>;
}

export interface GeneratedSite {
  readonly recipients: readonly GeneratedRecipient[];
  readonly counts: Readonly<Record<GeneratedKind | 'certificates' | 'nestedLists', number>>;
}

const FIRST = ['John', 'Zoë', 'Łukasz', 'José', 'Øystein', 'Søren', 'Ана', 'Ольга', 'Mária', 'François', 'Björn', 'Chloé', 'Siobhán', 'Jürgen', 'Ægir', 'Yūki', '明', 'Nuñez', 'Ada', 'Priya', 'Mehmet', 'Olu', 'Ines', 'Sam'];
const LAST = ['Smith', 'Müller', 'Dvořák', 'García', 'Ødegård', 'Kowalczyk', 'Иванова', 'Nagy', 'Lefèvre', 'Ångström', 'Ó Briain', 'Schröder', 'Þórsson', '佐藤', '王', 'Peña', 'Lovelace', 'Iyer', 'Yılmaz', 'Adé', 'Brown', 'Nguyễn', 'Kim', "O'Neil"];
const DEPARTMENTS = ['IT', 'Sales', 'Finance', 'HR', 'Legal', 'Operations', 'Forschung & Entwicklung', 'Comptabilité'];
const DEFAULT_SID = 'S-1-5-21-1144201745-2289526357-3433806489';

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sidToBytes(sid: string): Buffer {
  const p = sid.split('-');
  const subs = p.slice(3).map(Number);
  const b = Buffer.alloc(8 + 4 * subs.length);
  b[0] = Number(p[1]);
  b[1] = subs.length;
  b.writeUIntBE(Number(p[2]), 2, 6);
  subs.forEach((s, i) => b.writeUInt32LE(s, 8 + 4 * i));
  return b;
}

let certificate: Buffer | undefined;
/** The test certificate (DER) of test/fixtures: certificates must round-trip byte-exact. */
export function testCertificate(): Buffer {
  return (certificate ??= Buffer.from(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'test-certificate.der.b64'), 'utf8').replace(/\s+/g, ''), 'base64'));
}

const fold = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/[^\w]/g, '')
    .toLowerCase() || 'x';

export function generateExchangeSite(spec: ExchangeSiteSpec): GeneratedSite {
  const rnd = prng(spec.seed ?? 55);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const container = `cn=Recipients,ou=${spec.site},o=${spec.org}`;
  const domain = spec.domainSid ?? DEFAULT_SID;
  const n = spec.recipients;
  const lists = Math.max(n >= 20 ? Math.floor(n * 0.04) : 0, n >= 3 ? 1 : 0);
  const custom = n >= 2 ? Math.max(1, Math.floor(n * 0.08)) : 0;
  const mailboxes = n - lists - custom;
  const counts = { mailbox: 0, resource: 0, nosid: 0, custom: 0, list: 0, emptyList: 0, certificates: 0, nestedLists: 0 };
  const recipients: GeneratedRecipient[] = [];
  let ownerSid: Buffer | null = null;

  for (let i = 0; i < mailboxes; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const rdn = `mb${i}-${fold(last)}`;
    const kind: GeneratedKind = i > 0 && i % 50 === 7 ? 'resource' : i % 33 === 5 ? 'nosid' : 'mailbox';
    const sid = sidToBytes(`${domain}-${(spec.firstRid ?? 10_000) + i}`);
    if (kind === 'mailbox' && !ownerSid) ownerSid = sid;
    const a: Record<string, string[] | Buffer[]> = {
      objectClass: ['top', 'person', 'organizationalPerson', 'ex55Mailbox'],
      cn: [kind === 'resource' ? `Room ${last} ${i}` : `${first} ${last}`],
      rdn: [rdn],
      uid: [rdn],
      givenName: [first],
      sn: [last],
      mail: [`${rdn}@${spec.org.toLowerCase()}.example`],
      title: [`Title ${i % 40}`],
      department: [pick(DEPARTMENTS)],
      textEncodedORAddress: [`c=US;a= ;p=${spec.org};o=${spec.site};s=${fold(last)};g=${fold(first)};`],
      mailPreferenceOption: ['0'],
      'Extension-Attribute-1': [`EMP${String(i).padStart(6, '0')}`],
    };
    if (kind === 'resource') {
      // resource mailboxes share the SID of their owner's account; the ADC wants NTDSNoMatch
      a['Assoc-NT-Account'] = [ownerSid ?? sid];
      a['Extension-Attribute-10'] = ['NTDSNoMatch'];
    } else if (kind === 'mailbox') {
      a['Assoc-NT-Account'] = [sid];
    }
    if (i % 20 === 3) {
      a['userCertificate;binary'] = [testCertificate()];
      counts.certificates++;
    }
    counts[kind]++;
    recipients.push({ dn: `cn=${rdn},${container}`, rdn, kind, attributes: a });
  }
  for (let i = 0; i < custom; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const rdn = `cr${i}-${fold(last)}`;
    recipients.push({
      dn: `cn=${rdn},${container}`,
      rdn,
      kind: 'custom',
      attributes: {
        objectClass: ['top', 'Remote-Address'],
        cn: [`${first} ${last} (extern)`],
        rdn: [rdn],
        uid: [rdn],
        mail: [`${rdn}@partner.example`],
        'Target-Address': [`SMTP:${rdn}@partner.example`],
      },
    });
    counts.custom++;
  }
  const memberPool = recipients.map((r) => r.dn);
  const listDns: string[] = [];
  for (let i = 0; i < lists; i++) {
    const rdn = `dl${i}`;
    const dn = `cn=${rdn},${container}`;
    const empty = i % 10 === 4;
    const members = empty ? [''] : [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 20) }, () => pick(memberPool)))];
    if (!empty && listDns.length > 0 && i % 4 === 1) {
      members.push(pick(listDns));
      counts.nestedLists++;
    }
    recipients.push({
      dn,
      rdn,
      kind: empty ? 'emptyList' : 'list',
      attributes: {
        objectClass: ['top', 'groupOfNames', 'ex55DistributionList'],
        cn: [`Liste ${pick(DEPARTMENTS)} ${i}`],
        rdn: [rdn],
        uid: [rdn],
        mail: [`${rdn}@${spec.org.toLowerCase()}.example`],
        member: members,
      },
    });
    listDns.push(dn);
    counts[empty ? 'emptyList' : 'list']++;
  }
  return { recipients, counts };
}

/** One entry as LDIF (base64 where LDIF requires it: binary, non-ASCII, leading space/colon/<). */
export function toLdif(dn: string, attributes: Readonly<Record<string, readonly (string | Buffer)[]>>): string {
  const line = (name: string, v: string | Buffer) => {
    if (Buffer.isBuffer(v)) return `${name}:: ${v.toString('base64')}`;
     
    return /^[ :<]|[^\x20-\x7e]| $/.test(v) ? `${name}:: ${Buffer.from(v, 'utf8').toString('base64')}` : `${name}: ${v}`;
  };
  return [line('dn', dn), ...Object.entries(attributes).flatMap(([k, vs]) => vs.map((v) => line(k, v)))].join('\n') + '\n';
}

/** The site's recipients as LDIF entries, for slapadd. */
export function siteLdif(site: GeneratedSite): string[] {
  return site.recipients.map((r) => toLdif(r.dn, r.attributes as Record<string, (string | Buffer)[]>));
}

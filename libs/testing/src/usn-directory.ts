import { Attribute, Change, type Client } from 'ldapts';
import { PrivateSlapd } from './slapd';

/** Test-only schema: where the server tells which tombstones it has purged (ADR 0050). */
const USN_EXTRA_SCHEMA = `dn: cn=ex55usn,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: ex55usn
olcAttributeTypes: ( 2.25.235208717302026595706457539145343333886.3.1 NAME 'USN-Last-Obj-Rem'
  DESC 'USN of the last tombstone garbage-collected (PR_EMS_AB_USN_LAST_OBJ_REM)'
  EQUALITY integerMatch ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
olcAttributeTypes: ( 2.25.235208717302026595706457539145343333886.3.3 NAME 'dsServiceName'
  DESC 'Root DSE: DN of the DSA (server) answering' EQUALITY distinguishedNameMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 SINGLE-VALUE )
olcObjectClasses: ( 2.25.235208717302026595706457539145343333886.3.2 NAME 'ex55DsaState'
  DESC 'Test directory: the DSA state Exchange 5.5 keeps per server' SUP top AUXILIARY
  MAY ( USN-Last-Obj-Rem ) )
`;

export type LdapValues = string | string[] | Buffer | Buffer[];

/** Attributes a tombstone keeps (what the classes require, the names, the anchor). */
const TOMBSTONE_KEEPS = new Set(['objectclass', 'cn', 'sn', 'rdn', 'uid', 'target-address', 'member', 'usn-changed', 'usn-created', 'is-deleted']);

/**
 * A directory that keeps `USN-Changed`, `USN-Created` and `Is-Deleted` tombstones the way an
 * Exchange 5.5 server does, for proving the `usn` delta strategy (ADR 0050). It is a private slapd
 * (slapd maintains none of this) written ONLY through this class, which does Exchange's
 * bookkeeping: one server-wide USN counter, incremented by every write; `USN-Created` set on add;
 * a delete turns the object into a tombstone (attributes stripped, `Is-Deleted: TRUE`, a new USN)
 * visible only to the administrator bind; `purgeTombstones()` garbage-collects them and records the
 * last removed USN on the server's DSA entry; the root DSE names the server (`dsServiceName`), and
 * `becomeServer()` restarts the directory as another server.
 */
export class UsnDirectory {
  readonly slapd: PrivateSlapd;
  readonly base: string;
  readonly recipients: string;
  private usn = 0;
  private server: string;

  constructor(
    readonly org: string,
    readonly site: string,
    server = 'EXCH01',
  ) {
    this.base = `ou=${site},o=${org}`;
    this.recipients = `cn=Recipients,${this.base}`;
    this.server = server;
    this.slapd = new PrivateSlapd({
      suffix: `o=${org}`,
      extraSchema: USN_EXTRA_SCHEMA,
      rootDse: [`dsServiceName: ${this.dsaDn(server)}`],
      // Tombstones are visible only to the administrator bind, as on Exchange 5.5.
      access: [`to filter=(Is-Deleted=TRUE) by dn.exact="cn=admin,o=${org}" read by * none`],
      indexes: ['USN-Changed', 'USN-Created', 'Is-Deleted'],
    });
  }

  dsaDn(server = this.server): string {
    return `cn=Microsoft DSA,cn=${server},cn=Servers,cn=Configuration,${this.base}`;
  }

  get url(): string {
    return this.slapd.url;
  }

  /** The highest USN this server has issued. */
  get highestUsn(): number {
    return this.usn;
  }

  /**
   * Creates the organisation, the site and its containers, and the server's DSA entry, plus
   * `bulk` recipient entries (LDIF without USNs: they get them here, in order) — offline, with
   * slapadd — then starts the server.
   */
  async create(bulk: readonly string[] = []): Promise<void> {
    const top = [`dn: o=${this.org}\nobjectClass: organization\no: ${this.org}\n`, `dn: ${this.base}\nobjectClass: organizationalUnit\nou: ${this.site}\n`];
    const entries = [
      `dn: ${this.recipients}\nobjectClass: ex55Container\ncn: Recipients\nrdn: Recipients`,
      `dn: cn=Configuration,${this.base}\nobjectClass: ex55Container\ncn: Configuration`,
      `dn: cn=Servers,cn=Configuration,${this.base}\nobjectClass: ex55Container\ncn: Servers`,
      `dn: cn=${this.server},cn=Servers,cn=Configuration,${this.base}\nobjectClass: ex55Container\ncn: ${this.server}`,
      `dn: ${this.dsaDn()}\nobjectClass: ex55Container\nobjectClass: ex55DsaState\ncn: Microsoft DSA`,
      ...bulk,
    ].map((e) => {
      const usn = ++this.usn;
      return `${e.trim()}\nUSN-Created: ${usn}\nUSN-Changed: ${usn}\n`;
    });
    this.slapd.create([...top, ...entries].join('\n') + '\n');
    await this.slapd.start();
  }

  async add(rdn: string, attributes: Record<string, LdapValues>): Promise<string> {
    const dn = `cn=${rdn},${this.recipients}`;
    const usn = this.next();
    await this.with((c) =>
      c.add(dn, [
        ...Object.entries(attributes).map(([type, v]) => new Attribute({ type, values: (Array.isArray(v) ? v : [v]) as string[] | Buffer[] })),
        new Attribute({ type: 'USN-Created', values: [String(usn)] }),
        new Attribute({ type: 'USN-Changed', values: [String(usn)] }),
      ]),
    );
    return dn;
  }

  async modify(dn: string, replace: Record<string, LdapValues>): Promise<void> {
    const usn = this.next();
    await this.with((c) =>
      c.modify(dn, [
        ...Object.entries(replace).map(
          ([type, v]) => new Change({ operation: 'replace', modification: new Attribute({ type, values: (Array.isArray(v) ? v : [v]) as string[] | Buffer[] }) }),
        ),
        usnChange(usn),
      ]),
    );
  }

  /** A rename within the site: a new RDN, a new USN-Changed (one change on Exchange; two LDAP writes here). */
  async rename(dn: string, newRdn: string): Promise<string> {
    const newDn = `cn=${newRdn},${dn.slice(dn.indexOf(',') + 1)}`;
    const usn = this.next();
    await this.with(async (c) => {
      await c.modifyDN(dn, `cn=${newRdn}`);
      await c.modify(newDn, [usnChange(usn), new Change({ operation: 'replace', modification: new Attribute({ type: 'rdn', values: [newRdn] }) })]);
    });
    return newDn;
  }

  /** Deletes as Exchange does: the object stays as a tombstone (Is-Deleted, stripped) with a new USN. */
  async remove(dn: string): Promise<void> {
    const usn = this.next();
    await this.with(async (c) => {
      const { searchEntries } = await c.search(dn, { scope: 'base', attributes: ['*'] });
      const strip = Object.keys(searchEntries[0] ?? {}).filter((a) => /^[a-z][\w;-]*$/i.test(a) && a !== 'dn' && !TOMBSTONE_KEEPS.has(a.toLowerCase()));
      await c.modify(dn, [
        ...strip.map((type) => new Change({ operation: 'delete', modification: new Attribute({ type, values: [] }) })),
        new Change({ operation: 'replace', modification: new Attribute({ type: 'Is-Deleted', values: ['TRUE'] }) }),
        usnChange(usn),
      ]);
    });
  }

  /** Garbage-collects every tombstone (the tombstone lifetime has passed) and says so on the DSA entry. */
  async purgeTombstones(): Promise<number> {
    return this.with(async (c) => {
      const { searchEntries } = await c.search(this.base, { scope: 'sub', filter: '(Is-Deleted=TRUE)', attributes: ['USN-Changed'] });
      let last = 0;
      for (const e of searchEntries) {
        await c.del(e.dn);
        last = Math.max(last, Number(e['USN-Changed']));
      }
      if (searchEntries.length > 0) {
        await c.modify(this.dsaDn(), [new Change({ operation: 'replace', modification: new Attribute({ type: 'USN-Last-Obj-Rem', values: [String(last)] }) })]);
      }
      return searchEntries.length;
    });
  }

  /** Restarts the directory as another server (same data, another DSA name in the root DSE). */
  async becomeServer(server: string): Promise<void> {
    await this.slapd.stop();
    this.server = server;
    this.slapd.setRootDse([`dsServiceName: ${this.dsaDn(server)}`]);
    await this.slapd.start();
  }

  dispose(): Promise<void> {
    return this.slapd.dispose();
  }

  private next(): number {
    return ++this.usn;
  }

  private async with<T>(work: (c: Client) => Promise<T>): Promise<T> {
    const c = await this.slapd.client();
    try {
      return await work(c);
    } finally {
      await c.unbind();
    }
  }
}

function usnChange(usn: number): Change {
  return new Change({ operation: 'replace', modification: new Attribute({ type: 'USN-Changed', values: [String(usn)] }) });
}

import {
  ConnectorError,
  type ConnectionTestResult,
  type Connector,
  type ConnectorSchema,
  type CsImage,
  type DeltaChange,
  type DeltaResult,
  type ExportOperation,
  type ImportSink,
  type ObjectError,
} from '@metaweave/connector-sdk';
import type { AttributeValue } from '@metaweave/contracts';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Attribute, Change, Client, type Entry } from 'ldapts';
import { BINARY_ATTRIBUTES, MalformedEntry, dnKey, referencedDns, toCsImage, withReferences, type LdapEntry } from '../import/entry-mapping';
import { auditEffects, formatWatermark, isUnder, parseWatermark, type AuditRecord, type Watermark } from './accesslog';
import { buildSchema } from './subschema';
import { formatUsnWatermark, highestUsn, parseUsnWatermark, usnEffect, usnWatermarkDistrust } from './usn';

export interface ExchangeDirectoryOptions {
  readonly name: string;
  readonly url: string;
  readonly bindDn: string;
  readonly bindPassword: string;
  /** `o=<Organization>`; each site is the partition `ou=<site>,o=<Organization>`. */
  readonly baseDn: string;
  readonly sites: readonly string[];
  /**
   * Containers per site, relative to the site (`cn=Recipients`): only objects under an included
   * container (default: the whole site) and not under an excluded one are in scope. An object moved
   * out of scope is a delete; moved in, an add.
   */
  readonly containers?: Readonly<Record<string, { readonly include?: readonly string[]; readonly exclude?: readonly string[] }>>;
  readonly pageSize?: number;
  /** StartTLS on an ldap:// URL (ldaps:// is TLS from the start); CA file and certificate checking for both. */
  readonly tls?: { readonly startTls?: boolean; readonly rejectUnauthorized?: boolean; readonly caFile?: string };
  /** Age after which an `empty:` watermark is no longer trusted (the accesslog purge age). */
  readonly accesslogPurgeAgeMs?: number;
  /**
   * How deltas are read: `accesslog` (OpenLDAP's audit log: the stand-in) or `usn` (USN-Changed,
   * USN-Created and Is-Deleted tombstones: a real Exchange 5.5 server). Default `accesslog`.
   */
  readonly deltaStrategy?: 'accesslog' | 'usn';
  /** `usn`: tombstone lifetime of the server (default 30 days, Exchange's default). */
  readonly tombstoneLifetimeMs?: number;
  readonly clock?: () => Date;
}

export const RECIPIENTS = '(|(objectClass=ex55Mailbox)(objectClass=Remote-Address)(objectClass=groupOfNames))';
/** Live recipients: tombstones (`Is-Deleted: TRUE`, visible to the admin bind) are not recipients. */
export const RECIPIENT_FILTER = `(&${RECIPIENTS}(!(Is-Deleted=TRUE)))`;
/**
 * Attribute of the server's DSA entry (the rootDSE's `dsServiceName`) holding the USN of the last
 * tombstone it garbage-collected: Exchange's PR_EMS_AB_USN_LAST_OBJ_REM, whose LDAP name is
 * unconfirmed (ADR 0050). When the server does not tell, only the tombstone lifetime is checked.
 */
export const LAST_OBJECT_REMOVED_USN = 'USN-Last-Obj-Rem';
const THIRTY_DAYS = 30 * 24 * 3600 * 1000;
const ACCESSLOG = 'cn=accesslog';
const SEVEN_DAYS = 7 * 24 * 3600 * 1000;

/**
 * The Exchange 5.5 directory as a connector: sites are partitions, recipients are read with paged
 * searches, and changes come from the `accesslog` strategy (OpenLDAP's audit log, the stand-in's
 * change log). Protocol code only: the run-step driver does diffing, staging and watermarks.
 */
export class ExchangeDirectory implements Connector {
  readonly capabilities;

  constructor(private readonly o: ExchangeDirectoryOptions) {
    this.capabilities = {
      fullImport: { fullImport: (p: string, sink: ImportSink) => this.fullImport(p, sink) },
      deltaImport:
        o.deltaStrategy === 'usn'
          ? { strategy: 'usn', deltaImport: (p: string, w: string) => this.usnDelta(p, w) }
          : { strategy: 'accesslog', deltaImport: (p: string, w: string) => this.deltaImport(p, w) },
      schema: { discover: () => this.discoverSchema() },
      export: { apply: (p: string, op: ExportOperation) => this.apply(p, op) },
    } as const;
  }

  get name(): string {
    return this.o.name;
  }

  partitions(): readonly string[] {
    return this.o.sites;
  }

  partitionBase(partition: string): string {
    return `ou=${partition},${this.o.baseDn}`;
  }

  /** Where the partition's objects are read from, and which DNs are in its scope. */
  private scope(partition: string): { bases: string[]; inScope: (dn: string) => boolean } {
    const site = this.partitionBase(partition);
    const c = this.o.containers?.[partition];
    const bases = c?.include?.length ? c.include.map((x) => `${x},${site}`) : [site];
    const excludes = (c?.exclude ?? []).map((x) => `${x},${site}`);
    return { bases, inScope: (dn) => bases.some((b) => isUnder(dn, b)) && !excludes.some((x) => isUnder(dn, x)) };
  }

  /**
   * Binds, reads every site, and finds out whether the account may write (export needs
   * administrator rights): it adds a probe container under the first site and deletes it at once.
   * A container is not a recipient: no import ever stages it.
   */
  async test(): Promise<ConnectionTestResult> {
    let client: Client;
    try {
      client = await this.connect();
    } catch (error) {
      return { reachable: !isUnreachable(error), canRead: false, canWrite: false, detail: describeLdapError(error, this.o.url, this.o.baseDn) };
    }
    try {
      for (const site of this.o.sites) {
        try {
          await client.search(this.partitionBase(site), { scope: 'base', attributes: ['1.1'] });
        } catch (error) {
          const why = (error as Error).name === 'NoSuchObjectError' ? `unknown site '${site}': ${this.partitionBase(site)} does not exist` : describeLdapError(error, this.o.url, this.o.baseDn);
          return { reachable: true, canRead: false, canWrite: false, detail: `bound to ${this.o.url} as ${this.o.bindDn}; ${why} (check MW_EXCHANGE_SITES)` };
        }
      }
      const probe = `cn=mw-rights-probe-${randomBytes(4).toString('hex')},${this.partitionBase(this.o.sites[0]!)}`;
      try {
        await client.add(probe, [new Attribute({ type: 'objectClass', values: ['ex55Container'] }), new Attribute({ type: 'cn', values: [probe.slice(3, probe.indexOf(','))] })]);
        await client.del(probe);
        return { reachable: true, canRead: true, canWrite: true, detail: `bound to ${this.o.url} as ${this.o.bindDn}: read and write (administrator rights: export possible)` };
      } catch (error) {
        if ((error as Error).name !== 'InsufficientAccessError') throw error;
        return {
          reachable: true,
          canRead: true,
          canWrite: false,
          detail: `bound to ${this.o.url} as ${this.o.bindDn}: read-only — imports work; export needs administrator permissions on the Exchange directory`,
        };
      }
    } catch (error) {
      return { reachable: !isUnreachable(error), canRead: false, canWrite: false, detail: describeLdapError(error, this.o.url, this.o.baseDn) };
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  async dispose(): Promise<void> {}

  /**
   * Applies one export and reads the object back (the confirming import). Objects are found by
   * anchor (entryUUID), so an export aimed at a DN that was renamed meanwhile still lands.
   */
  private async apply(partition: string, op: ExportOperation): Promise<CsImage | null> {
    const base = this.partitionBase(partition);
    let client: Client | undefined;
    try {
      client = await this.connect();
      let dn: string;
      if (op.op === 'add') {
        dn = op.dn;
        const attributes = { objectClass: OBJECT_CLASSES[op.objectType] ?? [], ...op.attributes };
        if (!OBJECT_CLASSES[op.objectType] && !op.attributes['objectClass']) {
          throw new ConnectorError('invalid-value', `unknown object type '${op.objectType}' (known: ${Object.keys(OBJECT_CLASSES).join(', ')})`);
        }
        await client.add(dn, Object.entries(attributes).map(([type, values]) => new Attribute({ type, values: toLdapValues(values) })));
      } else {
        dn = (await this.dnOfAnchor(client, base, op.anchor)) ?? op.dn;
        if (op.op === 'update') {
          await client.modify(
            dn,
            op.changes.map((c) => new Change({ operation: c.op, modification: new Attribute({ type: c.name, values: toLdapValues(c.values) }) })),
          );
        } else if (op.op === 'rename') {
          await client.modifyDN(dn, op.newDn);
          dn = op.newDn;
        } else {
          await client.del(dn);
          return null;
        }
      }
      const entry = await this.readRecipient(client, dn);
      return entry ? await this.image(client, entry as LdapEntry, partition, new Map()) : null;
    } catch (error) {
      throw toConnectorError(error, this.o.url, op);
    } finally {
      await client?.unbind().catch(() => undefined);
    }
  }

  private async dnOfAnchor(client: Client, base: string, anchor: string): Promise<string | null> {
    if (!/^[0-9a-f-]{36}$/i.test(anchor)) return null;
    const { searchEntries } = await client.search(base, { scope: 'sub', filter: `(entryUUID=${anchor})`, attributes: ['1.1'] });
    return searchEntries[0]?.dn ?? null;
  }

  /** Object types and attributes as the directory's subschema entry declares them now. */
  private async discoverSchema(): Promise<ConnectorSchema> {
    return this.withClient(async (client) => {
      const { searchEntries: root } = await client.search('', { scope: 'base', attributes: ['subschemaSubentry'] });
      const subschema = first(root[0]?.['subschemaSubentry']) ?? 'cn=Subschema';
      const { searchEntries } = await client.search(subschema, { scope: 'base', filter: '(objectClass=subschema)', attributes: ['attributeTypes', 'objectClasses'] });
      const entry = searchEntries[0];
      if (!entry) throw new Error(`no subschema entry at ${subschema} on ${this.o.url}`);
      return buildSchema(all(entry['attributeTypes']), all(entry['objectClasses']));
    });
  }

  private async withClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
    let client: Client | undefined;
    try {
      client = await this.connect();
      return await work(client);
    } catch (error) {
      if (isDirectoryError(error)) throw new Error(describeLdapError(error, this.o.url, this.o.baseDn));
      throw error;
    } finally {
      await client?.unbind().catch(() => undefined);
    }
  }

  /** A bound client: TLS as configured (StartTLS before the bind, so the password never goes in clear). */
  private async connect(): Promise<Client> {
    const tls = this.o.tls;
    const tlsOptions = tls ? { rejectUnauthorized: tls.rejectUnauthorized ?? true, ...(tls.caFile ? { ca: [readFileSync(tls.caFile)] } : {}) } : undefined;
    const client = new Client({ url: this.o.url, timeout: 60_000, connectTimeout: 10_000, ...(this.o.url.startsWith('ldaps:') && tlsOptions ? { tlsOptions } : {}) });
    try {
      if (tls?.startTls) {
        await client.startTLS(tlsOptions ?? {}).catch((error: Error & { code?: unknown }) => {
          if (typeof error.code !== 'number') throw error;
          throw Object.assign(new Error(`StartTLS refused by ${this.o.url} (${error.message.replace(/\s*Code: 0x[0-9a-f]+$/i, '')}): the server offers no TLS; check MW_LDAP_STARTTLS`), { name: 'StartTlsRefused' });
        });
      }
      await client.bind(this.o.bindDn, this.o.bindPassword);
      return client;
    } catch (error) {
      await client.unbind().catch(() => undefined);
      throw error;
    }
  }

  private async fullImport(partition: string, sink: ImportSink): Promise<{ watermark: string | null }> {
    const base = this.partitionBase(partition);
    return this.withClient(async (client) => {
      // The watermark is taken before the read: a change made during the read is seen again by the
      // next delta import (and then found unchanged), never missed.
      const watermark = this.o.deltaStrategy === 'usn' ? formatUsnWatermark(await this.usnNow(client, base)) : formatWatermark(await this.currentWatermark(client));
      const { bases, inScope } = this.scope(partition);
      const seen = new Set<string>();
      // Page n is staged while page n+1 is read (one staging at a time: the sink is sequential).
      let staging: Promise<void> = Promise.resolve();
      const anchors = new Map<string, string | null>();
      for (const from of bases) {
        const pages = client.searchPaginated(from, {
          scope: 'sub',
          filter: RECIPIENT_FILTER,
          attributes: ['*', 'entryUUID'],
          explicitBufferAttributes: [...BINARY_ATTRIBUTES],
          paged: { pageSize: this.o.pageSize ?? 500 },
        });
        for await (const page of pages) {
          const images = [];
          for (const entry of page.searchEntries) {
            const dn = entry.dn.toLowerCase();
            if (!inScope(entry.dn) || seen.has(dn)) continue;
            if (bases.length > 1) seen.add(dn);
            try {
              images.push(await this.image(client, entry as LdapEntry, partition, anchors));
            } catch (error) {
              if (!(error instanceof MalformedEntry)) throw error;
              sink.objectError({ object: error.dn, type: error.type, message: error.message });
            }
          }
          await staging;
          staging = sink.page(images);
          staging.catch(() => undefined);
        }
      }
      await staging;
      return { watermark };
    });
  }

  /** The server answering now and, when it tells, the USN of the last tombstone it purged. */
  private async usnServer(client: Client): Promise<{ server: string; lastObjectRemovedUsn: number | null }> {
    const { searchEntries: root } = await client.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['dsServiceName', 'serverName'] });
    const dsa = first(root[0]?.['dsServiceName']) ?? first(root[0]?.['serverName']);
    if (!dsa) return { server: this.o.url, lastObjectRemovedUsn: null };
    const { searchEntries } = await client
      .search(dsa, { scope: 'base', filter: '(objectClass=*)', attributes: [LAST_OBJECT_REMOVED_USN] })
      .catch((e: Error) => {
        if (e.name === 'NoSuchObjectError') return { searchEntries: [] };
        throw e;
      });
    const rem = first(searchEntries[0]?.[LAST_OBJECT_REMOVED_USN]);
    return { server: dsa, lastObjectRemovedUsn: rem === undefined ? null : Number(rem) };
  }

  /**
   * A watermark covering every change committed before now: the highest USN-Changed in the
   * partition (tombstones included) read BEFORE the objects are. A change committed after this
   * scan gets a higher USN than any it saw, so the next delta finds it; the max of what a read
   * returns would not do (an object changed behind the read cursor could get a lower USN than one
   * changed ahead of it).
   */
  private async usnNow(client: Client, base: string, above = -1): Promise<{ server: string; usn: number; at: Date }> {
    const at = (this.o.clock ?? (() => new Date()))();
    const { server, lastObjectRemovedUsn } = await this.usnServer(client);
    // Tombstones purged so far are covered by what this read finds (or no longer finds): without
    // this, a directory whose newest changes were purged tombstones would never trust a watermark.
    let usn = Math.max(above, 0, lastObjectRemovedUsn ?? 0);
    for await (const page of client.searchPaginated(base, {
      scope: 'sub',
      filter: `(USN-Changed>=${above + 1})`,
      attributes: ['USN-Changed'],
      paged: { pageSize: 1000 },
    })) {
      usn = highestUsn(page.searchEntries.map((e) => first(e['USN-Changed'])), usn);
    }
    return { server, usn, at };
  }

  /** The `usn` strategy: USN-Changed above the watermark; adds by USN-Created; deletes from tombstones. */
  private async usnDelta(partition: string, value: string): Promise<DeltaResult> {
    const base = this.partitionBase(partition);
    return this.withClient(async (client) => {
      const server = await this.usnServer(client);
      const now = (this.o.clock ?? (() => new Date()))();
      const distrust = usnWatermarkDistrust(value, { ...server, now, tombstoneLifetimeMs: this.o.tombstoneLifetimeMs ?? THIRTY_DAYS });
      if (distrust) return { outcome: 'full-import-required', reason: distrust };
      const from = parseUsnWatermark(value)!.usn;
      const next = await this.usnNow(client, base, from);
      const changes: DeltaChange[] = [];
      const errors: ObjectError[] = [];
      const anchors = new Map<string, string | null>();
      for await (const page of client.searchPaginated(base, {
        scope: 'sub',
        filter: `(&(USN-Changed>=${from + 1})${RECIPIENTS})`,
        attributes: ['*', 'entryUUID', 'USN-Changed', 'USN-Created', 'Is-Deleted'],
        explicitBufferAttributes: [...BINARY_ATTRIBUTES],
        paged: { pageSize: this.o.pageSize ?? 500 },
      })) {
        for (const entry of page.searchEntries) {
          const uuid = first(entry['entryUUID']);
          const effect = usnEffect(
            {
              dn: entry.dn,
              anchor: uuid ? uuid.toLowerCase() : null,
              usnChanged: numberOf(entry['USN-Changed']),
              usnCreated: numberOf(entry['USN-Created']),
              deleted: /^true$/i.test(first(entry['Is-Deleted']) ?? ''),
            },
            from,
          );
          if (effect.kind === 'skip') continue;
          if (effect.kind === 'delete' || !this.scope(partition).inScope(entry.dn)) {
            // a tombstone, or an object moved out of the scope: gone from this partition
            if (effect.kind !== 'delete') {
              changes.push({ kind: 'delete', anchor: uuid ? uuid.toLowerCase() : null, dn: null });
              continue;
            }
            changes.push({ kind: 'delete', anchor: effect.anchor, dn: effect.dn });
            continue;
          }
          try {
            changes.push({ kind: 'upsert', image: await this.image(client, entry as LdapEntry, partition, anchors) });
          } catch (error) {
            if (!(error instanceof MalformedEntry)) throw error;
            errors.push({ object: error.dn, type: error.type, message: error.message });
          }
        }
      }
      return { outcome: 'changes', changes, watermark: formatUsnWatermark(next), errors };
    });
  }

  /** The newest accesslog record now (its reqStart), found through the log database's contextCSN. */
  private async currentWatermark(client: Client): Promise<Watermark> {
    const { searchEntries: root } = await client.search(ACCESSLOG, { scope: 'base', attributes: ['contextCSN'] });
    const csn = first(root[0]?.['contextCSN']);
    if (csn) {
      const { searchEntries } = await client.search(ACCESSLOG, { scope: 'one', filter: `(entryCSN>=${csn})`, attributes: ['reqStart'] });
      const newest = searchEntries.map((e) => first(e['reqStart'])).filter((x): x is string => !!x).sort().pop();
      if (newest) return { kind: 'record', reqStart: newest };
    }
    return { kind: 'empty', at: (this.o.clock ?? (() => new Date()))() };
  }

  private async deltaImport(partition: string, value: string): Promise<DeltaResult> {
    const watermark = parseWatermark(value);
    return this.withClient(async (client) => {
      if (watermark.kind === 'record') {
        const still = await client
          .search(`reqStart=${watermark.reqStart},${ACCESSLOG}`, { scope: 'base', attributes: ['1.1'] })
          .then(() => true)
          .catch((e: Error) => {
            if (e.name === 'NoSuchObjectError') return false;
            throw e;
          });
        if (!still) return { outcome: 'full-import-required', reason: `accesslog purged past the watermark ${watermark.reqStart}` };
      } else {
        const age = (this.o.clock ?? (() => new Date()))().getTime() - watermark.at.getTime();
        if (age > (this.o.accesslogPurgeAgeMs ?? SEVEN_DAYS)) {
          return { outcome: 'full-import-required', reason: `no delta for ${Math.round(age / 3600000)} h: longer than the accesslog keeps records` };
        }
      }
      const filter =
        watermark.kind === 'record'
          ? `(&(objectClass=auditWriteObject)(reqResult=0)(reqStart>=${watermark.reqStart}))`
          : '(&(objectClass=auditWriteObject)(reqResult=0))';
      const records: AuditRecord[] = [];
      for await (const page of client.searchPaginated(ACCESSLOG, {
        scope: 'one',
        filter,
        attributes: ['reqStart', 'reqType', 'reqDN', 'reqNewRDN', 'reqNewSuperior', 'reqOld'],
        paged: { pageSize: 1000 },
      })) {
        for (const e of page.searchEntries) {
          const reqStart = first(e['reqStart']);
          if (!reqStart || (watermark.kind === 'record' && reqStart === watermark.reqStart)) continue;
          records.push({
            reqStart,
            reqType: first(e['reqType']) ?? '',
            reqDN: first(e['reqDN']) ?? '',
            ...(first(e['reqNewRDN']) ? { reqNewRDN: first(e['reqNewRDN'])! } : {}),
            ...(first(e['reqNewSuperior']) ? { reqNewSuperior: first(e['reqNewSuperior'])! } : {}),
            reqOld: all(e['reqOld']),
          });
        }
      }
      const next = records.reduce((max, r) => (r.reqStart > max ? r.reqStart : max), watermark.kind === 'record' ? watermark.reqStart : '');
      const nextWatermark = next ? formatWatermark({ kind: 'record', reqStart: next }) : value;
      const changes: DeltaChange[] = [];
      const errors: ObjectError[] = [];
      // Re-read each touched object once, as it is now; deletes in log order after that.
      const effects = auditEffects(records, this.scope(partition).inScope);
      const touched = [...new Set(effects.filter((e) => e.kind === 'touch').map((e) => e.dn.toLowerCase()))];
      const current = new Map<string, Entry>();
      const anchors = new Map<string, string | null>();
      for (const dn of touched) {
        const entry = await this.readRecipient(client, dn);
        if (entry) current.set(dn, entry);
      }
      for (const effect of effects) {
        if (effect.kind === 'delete') {
          changes.push({ kind: 'delete', anchor: effect.anchor, dn: effect.dn });
          continue;
        }
        const entry = current.get(effect.dn.toLowerCase());
        if (!entry) continue;
        current.delete(effect.dn.toLowerCase());
        try {
          changes.push({ kind: 'upsert', image: await this.image(client, entry as LdapEntry, partition, anchors) });
        } catch (error) {
          if (!(error instanceof MalformedEntry)) throw error;
          errors.push({ object: error.dn, type: error.type, message: error.message });
        }
      }
      return { outcome: 'changes', changes, watermark: nextWatermark, errors };
    });
  }

  /** One entry as a CS image, its member DNs as `{ref: entryUUID}` (looked up once per DN per run, in `anchors`). */
  private async image(client: Client, entry: LdapEntry, partition: string, anchors: Map<string, string | null>) {
    const image = toCsImage(entry, partition);
    for (const dn of referencedDns(image)) {
      const key = dnKey(dn);
      if (anchors.has(key)) continue;
      const found = await client.search(dn, { scope: 'base', filter: RECIPIENT_FILTER, attributes: ['entryUUID'] }).catch((error: Error) => {
        // gone, or not a DN at all: nothing to resolve
        if (error.name === 'NoSuchObjectError' || error.name === 'InvalidDNSyntaxError') return { searchEntries: [] };
        throw error;
      });
      anchors.set(key, first(found.searchEntries[0]?.['entryUUID'])?.toLowerCase() ?? null);
    }
    return withReferences(image, anchors);
  }

  /** The recipient at `dn` now, or null if it is gone or is not a recipient (a container...). */
  private async readRecipient(client: Client, dn: string): Promise<Entry | null> {
    try {
      const { searchEntries } = await client.search(dn, {
        scope: 'base',
        filter: RECIPIENT_FILTER,
        attributes: ['*', 'entryUUID'],
        explicitBufferAttributes: [...BINARY_ATTRIBUTES],
      });
      return searchEntries[0] ?? null;
    } catch (error) {
      if ((error as Error).name === 'NoSuchObjectError') return null;
      throw error;
    }
  }
}

function numberOf(v: unknown): number | null {
  const n = Number(first(v));
  return first(v) === undefined || !Number.isSafeInteger(n) ? null : n;
}

function first(v: unknown): string | undefined {
  const x = Array.isArray(v) ? v[0] : v;
  return x === undefined ? undefined : String(x);
}

function all(v: unknown): string[] {
  return v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString('latin1') : String(x)));
}

/** Object classes of a new recipient of each object type. */
const OBJECT_CLASSES: Readonly<Record<string, string[]>> = {
  mailbox: ['top', 'person', 'organizationalPerson', 'ex55Mailbox'],
  customRecipient: ['top', 'Remote-Address'],
  distributionList: ['top', 'groupOfNames', 'ex55DistributionList'],
};

function toLdapValues(values: readonly AttributeValue[] | readonly string[]): string[] | Buffer[] {
  if (values.some((v) => typeof v === 'object' && v !== null && 'b64' in v)) {
    return values.map((v) => (typeof v === 'object' && v !== null && 'b64' in v ? Buffer.from(v.b64, 'base64') : Buffer.from(String(v))));
  }
  return values.map((v) => (typeof v === 'object' && v !== null && 'ref' in v ? v.ref : typeof v === 'boolean' ? (v ? 'TRUE' : 'FALSE') : String(v)));
}

/** The directory's refusal as a typed connector error an operator can act on. */
export function toConnectorError(error: unknown, url: string, op: ExportOperation): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const e = error as { name?: string; message?: string; code?: unknown };
  const what = `${op.op} of ${op.op === 'add' ? op.dn : op.dn}`;
  const detail = (e.message ?? '').replace(/\s*Code: 0x[0-9a-f]+$/i, '').trim();
  switch (e.name) {
    case 'InsufficientAccessError':
      return new ConnectorError('insufficient-rights', `${what} refused: the account lacks the rights to write; export needs administrator permissions on the Exchange directory`);
    case 'AlreadyExistsError':
      return new ConnectorError('already-exists', `${what} refused: an object with that DN already exists`);
    case 'NoSuchObjectError':
      return new ConnectorError('unknown-object', `${what} refused: no such object in the directory${detail ? ` (${detail})` : ''}`);
    case 'ObjectClassViolationError':
      return new ConnectorError('missing-mandatory-attribute', `${what} refused by the schema: ${detail || 'a mandatory attribute is missing'}`);
    case 'ConstraintViolationError':
    case 'InvalidAttributeSyntaxError':
    case 'UndefinedTypeError':
    case 'InvalidDNSyntaxError':
    case 'NotAllowedOnRDNError':
      return new ConnectorError('invalid-value', `${what} refused: ${detail || e.name}`);
    case 'InvalidCredentialsError':
      return new ConnectorError('invalid-credentials', `bind refused by ${url}: check MW_LDAP_BIND_DN and MW_LDAP_BIND_PASSWORD`);
    default:
      if (isDirectoryError(error) && typeof e.code !== 'number') {
        return new ConnectorError('connection-broken', `Exchange directory unreachable at ${url} (${String(e.code)})`);
      }
      return new ConnectorError('other', `${what} failed: ${e.name ?? 'Error'}: ${detail}`);
  }
}

function isUnreachable(error: unknown): boolean {
  return ['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'].includes(String((error as { code?: unknown }).code));
}

/** Errors of the LDAP conversation (result codes, sockets), as opposed to the sink's own. */
function isDirectoryError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE'].includes(String(code));
}

/** An actionable message for a failed directory operation; never includes the bind password. */
export function describeLdapError(error: unknown, url: string, base: string): string {
  const e = error as { code?: unknown; message?: string; name?: string };
  if (e.code === 'ECONNREFUSED' || e.code === 'ETIMEDOUT' || e.code === 'EHOSTUNREACH') {
    return `Exchange directory unreachable at ${url} (${String(e.code)}): check the server and MW_LDAP_URL`;
  }
  if (e.name === 'InvalidCredentialsError') return `bind refused by ${url}: check MW_LDAP_BIND_DN and MW_LDAP_BIND_PASSWORD`;
  if (e.name === 'NoSuchObjectError') return `${base} does not exist on ${url}: check MW_LDAP_BASE_DN and MW_EXCHANGE_SITES`;
  if (e.name === 'StartTlsRefused') return e.message ?? 'StartTLS refused';
  if (e.name === 'InsufficientAccessError') return `the account ${url} bound as may not read ${base} or cn=accesslog: it needs administrator rights`;
  return `${e.name ?? 'Error'} from ${url}: ${e.message ?? String(error)}`;
}

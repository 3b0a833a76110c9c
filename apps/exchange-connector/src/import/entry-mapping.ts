import type { AttributeValue, Attributes } from '@metaweave/contracts';
import type { CsImage } from '@metaweave/connector-sdk';

/** Attributes Exchange 5.5 holds as octet strings; everything else is text. */
export const BINARY_ATTRIBUTES = ['Assoc-NT-Account', 'userCertificate;binary', 'userCertificate', 'NT-Security-Descriptor'] as const;

const OBJECT_TYPES: ReadonlyArray<[objectClass: string, objectType: string]> = [
  ['ex55mailbox', 'mailbox'],
  ['remote-address', 'customRecipient'],
  ['groupofnames', 'distributionList'],
];

/** Attributes that describe the entry rather than the recipient (incl. change bookkeeping); not staged. */
const NOT_STAGED = new Set(['objectclass', 'entryuuid', 'dn', 'usn-changed', 'usn-created', 'is-deleted']);

export interface LdapEntry {
  readonly dn: string;
  readonly [attribute: string]: string | string[] | Buffer | Buffer[];
}

export class MalformedEntry extends Error {
  readonly retriable = false;
  constructor(
    readonly dn: string,
    reason: string,
    /** MIIS-style error type of the per-object error. */
    readonly type = 'malformed-entry',
  ) {
    super(`${dn}: ${reason}`);
    this.name = 'MalformedEntry';
  }
}

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Turns one LDAP entry into a connector-space image. The anchor is `entryUUID`: it survives
 * renames and moves, where the DN does not. Throws MalformedEntry naming what is wrong.
 */
export function toCsImage(entry: LdapEntry, partition: string): CsImage {
  const classes = asList(entry['objectClass'] as string | string[] | undefined).map((c) => String(c).toLowerCase());
  const type = OBJECT_TYPES.find(([oc]) => classes.includes(oc));
  if (!type) throw new MalformedEntry(entry.dn, `no recipient object class among [${classes.join(', ')}]`);
  const uuid = asList(entry['entryUUID'] as string | string[] | undefined)[0];
  if (typeof uuid !== 'string' || !/^[0-9a-f-]{36}$/i.test(uuid)) throw new MalformedEntry(entry.dn, 'missing or invalid entryUUID');

  const sid = asList(entry['Assoc-NT-Account'] as Buffer | Buffer[] | undefined)[0];
  if (sid !== undefined) {
    const problem = sidProblem(Buffer.isBuffer(sid) ? sid : Buffer.from(String(sid), 'latin1'));
    if (problem) throw new MalformedEntry(entry.dn, `Assoc-NT-Account is not a SID: ${problem}`, 'invalid-sid');
  }

  const attributes: Record<string, AttributeValue[]> = {};
  for (const [name, raw] of Object.entries(entry)) {
    if (NOT_STAGED.has(name.toLowerCase())) continue;
    const values = asList(raw as string | Buffer | Array<string | Buffer>)
      .map((v): AttributeValue => (Buffer.isBuffer(v) ? { b64: v.toString('base64') } : String(v)))
      .filter((v) => v !== '');
    if (values.length > 0) attributes[name] = values;
  }
  return { anchor: uuid.toLowerCase(), partition, dn: entry.dn, objectType: type[1], attributes: attributes as Attributes };
}

/** Why `b` is not a binary SID (MS-DTYP 2.4.2.2), or null when it is one. */
export function sidProblem(b: Buffer): string | null {
  if (b.length < 8) return `${b.length} bytes, a SID needs at least 8`;
  if (b[0] !== 1) return `revision ${b[0]}, expected 1`;
  const count = b[1]!;
  if (count > 15) return `${count} sub-authorities, at most 15`;
  if (b.length !== 8 + 4 * count) return `${b.length} bytes for ${count} sub-authorities (expected ${8 + 4 * count})`;
  return null;
}

/**
 * DN-valued attributes: references to other recipients (a distribution list's `member`). They are
 * staged as `{ref: entryUUID}` so the join engine can resolve them through the metaverse (a DN is
 * not an anchor: it changes on rename). ADR 0070.
 */
export const REFERENCE_ATTRIBUTES: readonly string[] = ['member'];

const isReference = (name: string) => REFERENCE_ATTRIBUTES.includes(name.toLowerCase());

/** The DNs an image references (the values of its reference attributes that are still DNs). */
export function referencedDns(image: CsImage): string[] {
  return Object.entries(image.attributes)
    .filter(([name]) => isReference(name))
    .flatMap(([, values]) => values.filter((v): v is string => typeof v === 'string'));
}

/** DN → lookup key (case and blanks around separators do not matter in a DN). */
export const dnKey = (dn: string): string => dn.toLowerCase().replace(/\s*([,=])\s*/g, '$1');

/**
 * Replaces each referenced DN with `{ref: anchor}` from `anchors` (keyed by dnKey). A DN that names
 * no recipient (`null`: dangling, or not a recipient) is left out, as the engine leaves out
 * references it cannot resolve; the image's `unresolved` count says how many.
 */
export function withReferences(image: CsImage, anchors: ReadonlyMap<string, string | null>): CsImage {
  const attributes: Record<string, readonly AttributeValue[]> = { ...image.attributes };
  for (const [name, values] of Object.entries(image.attributes)) {
    if (!isReference(name)) continue;
    const refs: AttributeValue[] = [];
    for (const v of values) {
      if (typeof v !== 'string') {
        refs.push(v);
        continue;
      }
      const anchor = anchors.get(dnKey(v));
      if (anchor) refs.push({ ref: anchor });
    }
    if (refs.length > 0) attributes[name] = refs;
    else delete attributes[name];
  }
  return { ...image, attributes: attributes as Attributes };
}

import type { AttributeValue } from '@metaweave/contracts';

/**
 * The transform library: small pure functions from the values of one or more sources to the
 * values of one target. `inputs[i]` holds the values of the i-th source (`from: [a, b]`).
 * A transform throws TransformError on input it cannot convert (the engine turns it into a
 * per-object `flow-failure` error naming the flow).
 */
export type TransformFn = (inputs: readonly (readonly AttributeValue[])[], args: Readonly<Record<string, string | number | boolean>>) => AttributeValue[];

export class TransformError extends Error {
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'TransformError';
  }
}

const text = (v: AttributeValue): string => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new TransformError(`expected a text value, got ${'b64' in v ? 'a binary value' : 'a reference'}`);
};
const eachText = (f: (s: string) => string): TransformFn => (inputs) => (inputs[0] ?? []).map((v) => f(text(v)));
const firstText = (values: readonly AttributeValue[] | undefined): string | undefined => (values && values.length > 0 ? text(values[0]!) : undefined);

/** Binary SID (MS-DTYP 2.4.2) → `S-1-5-21-…`. */
export function sidToString(bytes: Uint8Array): string {
  if (bytes.length < 8) throw new TransformError(`not a SID: ${bytes.length} bytes`);
  const count = bytes[1]!;
  if (bytes[0] !== 1 || bytes.length !== 8 + 4 * count) throw new TransformError(`not a SID: revision ${bytes[0]}, ${count} sub-authorities in ${bytes.length} bytes`);
  let authority = 0;
  for (let i = 2; i < 8; i++) authority = authority * 256 + bytes[i]!;
  const subs: number[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) subs.push(view.getUint32(8 + 4 * i, true));
  return `S-1-${authority}${subs.map((s) => `-${s}`).join('')}`;
}

/** `S-1-5-21-…` → binary SID. */
export function sidFromString(sid: string): Uint8Array {
  const m = /^S-1-(\d+)((?:-\d+)*)$/i.exec(sid.trim());
  if (!m) throw new TransformError(`not a SID string: '${sid}'`);
  const subs = m[2] ? m[2].slice(1).split('-').map(Number) : [];
  if (subs.length > 15 || subs.some((s) => s > 0xffffffff)) throw new TransformError(`not a SID string: '${sid}'`);
  const bytes = new Uint8Array(8 + 4 * subs.length);
  bytes[0] = 1;
  bytes[1] = subs.length;
  let authority = Number(m[1]);
  for (let i = 7; i >= 2; i--) {
    bytes[i] = authority % 256;
    authority = Math.floor(authority / 256);
  }
  const view = new DataView(bytes.buffer);
  subs.forEach((s, i) => view.setUint32(8 + 4 * i, s, true));
  return bytes;
}

/** Splits an LDAP DN into its RDN values (`cn=a,ou=b` → ['a', 'b']), honouring `\,` escapes. */
export function dnComponents(dn: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === '\\' && i + 1 < dn.length) {
      current += dn[++i];
    } else if (c === ',') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  if (current !== '' || parts.length > 0) parts.push(current);
  return parts.map((p) => {
    const eq = p.indexOf('=');
    return (eq >= 0 ? p.slice(eq + 1) : p).trim();
  });
}

/** The built-in transforms, by the name a rules file uses. */
export const BUILTIN_TRANSFORMS: Readonly<Record<string, TransformFn>> = {
  lower: eachText((s) => s.toLowerCase()),
  upper: eachText((s) => s.toUpperCase()),
  trim: eachText((s) => s.trim()),
  /** First value of each source joined with `separator` (default ''); empty when any source is empty. */
  concat: (inputs, args) => {
    const firsts = inputs.map(firstText);
    return firsts.some((f) => f === undefined) ? [] : [firsts.join(String(args['separator'] ?? ''))];
  },
  /** Splits each value at `separator`; `index` keeps one part (0-based), otherwise all parts. */
  split: (inputs, args) => {
    const sep = String(args['separator'] ?? ',');
    const parts = (inputs[0] ?? []).flatMap((v) => text(v).split(sep));
    if (args['index'] === undefined) return parts.filter((p) => p !== '');
    const p = parts[Number(args['index'])];
    return p === undefined || p === '' ? [] : [p];
  },
  /** Binary SID `{b64}` → string form. */
  sidToString: (inputs) =>
    (inputs[0] ?? []).map((v) => {
      if (typeof v !== 'object' || !('b64' in v)) throw new TransformError('sidToString expects a binary value');
      return sidToString(Buffer.from(v.b64, 'base64'));
    }),
  /** String SID → binary `{b64}`. */
  sidFromString: (inputs) => (inputs[0] ?? []).map((v) => ({ b64: Buffer.from(sidFromString(text(v))).toString('base64') })),
  /** [domain, name] → `DOMAIN\name` (domain upper-cased). */
  ntAccount: (inputs) => {
    const domain = firstText(inputs[0]);
    const user = firstText(inputs[1]);
    return domain && user ? [`${domain.toUpperCase()}\\${user}`] : [];
  },
  /** `DOMAIN\name` → name (part `domain` with `part: domain`). */
  fromNtAccount: (inputs, args) =>
    (inputs[0] ?? []).map((v) => {
      const s = text(v);
      const i = s.indexOf('\\');
      if (i < 0) throw new TransformError(`not DOMAIN\\name: '${s}'`);
      return args['part'] === 'domain' ? s.slice(0, i) : s.slice(i + 1);
    }),
  /** The `index`-th (1-based) RDN value of an LDAP DN. */
  dnComponent: (inputs, args) => {
    const dn = firstText(inputs[0]);
    if (dn === undefined) return [];
    const c = dnComponents(dn)[Number(args['index'] ?? 1) - 1];
    return c ? [c] : [];
  },
  /** Keeps the first value only. */
  first: (inputs) => (inputs[0] && inputs[0].length > 0 ? [inputs[0][0]!] : []),
  /** Values as integers (throws on text that is not one). */
  toInteger: (inputs) =>
    (inputs[0] ?? []).map((v) => {
      const n = Number(text(v));
      if (!Number.isInteger(n)) throw new TransformError(`not an integer: '${text(v)}'`);
      return n;
    }),
  toText: (inputs) => (inputs[0] ?? []).map(text),
};

/**
 * Transforms known to a rules set: the built-ins plus custom extensions. Custom TypeScript
 * extensions register here before the rules are loaded (docs/join-engine.md, "Extensions");
 * a built-in name cannot be replaced.
 */
export class TransformRegistry {
  private readonly custom = new Map<string, TransformFn>();

  static withExtensions(extensions: Readonly<Record<string, TransformFn>> = {}): TransformRegistry {
    const r = new TransformRegistry();
    for (const [n, fn] of Object.entries(extensions)) r.register(n, fn);
    return r;
  }

  register(transformName: string, fn: TransformFn): this {
    if (BUILTIN_TRANSFORMS[transformName]) throw new Error(`transform '${transformName}' is built in and cannot be replaced`);
    this.custom.set(transformName, fn);
    return this;
  }

  get(transformName: string): TransformFn | undefined {
    return BUILTIN_TRANSFORMS[transformName] ?? this.custom.get(transformName);
  }

  names(): string[] {
    return [...Object.keys(BUILTIN_TRANSFORMS), ...this.custom.keys()].sort();
  }
}

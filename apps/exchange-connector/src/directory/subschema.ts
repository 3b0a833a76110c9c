import type { ConnectorSchema, SchemaAttribute, SchemaObjectType } from '@metaweave/connector-sdk';

/**
 * Schema discovery from an LDAP subschema entry (RFC 4512 `attributeTypes` / `objectClasses`):
 * the Exchange connector's object types and their attributes, with syntax and cardinality resolved
 * through `SUP` chains. Pure: the LDAP read is in exchange-directory.ts.
 */
interface AttributeTypeDef {
  readonly oid: string;
  readonly names: readonly string[];
  readonly sup?: string;
  readonly syntax?: string;
  readonly singleValue: boolean;
}

interface ObjectClassDef {
  readonly oid: string;
  readonly names: readonly string[];
  readonly sup: readonly string[];
  readonly must: readonly string[];
  readonly may: readonly string[];
}

/** The connector's object types and the object classes that make them. */
export const EXCHANGE_OBJECT_TYPES: Readonly<Record<string, readonly string[]>> = {
  mailbox: ['ex55Mailbox'],
  customRecipient: ['Remote-Address'],
  distributionList: ['groupOfNames', 'ex55DistributionList'],
};

const SYNTAX: Readonly<Record<string, SchemaAttribute['syntax']>> = {
  '1.3.6.1.4.1.1466.115.121.1.5': 'binary',
  '1.3.6.1.4.1.1466.115.121.1.8': 'binary',
  '1.3.6.1.4.1.1466.115.121.1.40': 'binary',
  '1.3.6.1.4.1.1466.115.121.1.12': 'reference',
  '1.3.6.1.4.1.1466.115.121.1.27': 'integer',
  '1.3.6.1.4.1.1466.115.121.1.7': 'boolean',
  '1.3.6.1.4.1.1466.115.121.1.24': 'time',
};

function names(def: string): string[] {
  const m = /\bNAME\s+(?:'([^']+)'|\(\s*((?:'[^']+'\s*)+)\))/.exec(def);
  if (!m) return [];
  return m[1] ? [m[1]] : [...m[2]!.matchAll(/'([^']+)'/g)].map((x) => x[1]!);
}

function oids(def: string, keyword: string): string[] {
  const m = new RegExp(`\\b${keyword}\\s+(?:\\(([^)]*)\\)|([\\w.;-]+))`).exec(def);
  if (!m) return [];
  return (m[1] ?? m[2]!)
    .split('$')
    .map((x) => x.trim())
    .filter(Boolean);
}

export function parseAttributeType(def: string): AttributeTypeDef {
  const syntax = /\bSYNTAX\s+([\d.]+)/.exec(def)?.[1];
  const sup = oids(def, 'SUP')[0];
  return {
    oid: /^\(\s*([\w.-]+)/.exec(def)?.[1] ?? '',
    names: names(def),
    ...(sup ? { sup } : {}),
    ...(syntax ? { syntax } : {}),
    singleValue: /\bSINGLE-VALUE\b/.test(def),
  };
}

export function parseObjectClass(def: string): ObjectClassDef {
  return { oid: /^\(\s*([\w.-]+)/.exec(def)?.[1] ?? '', names: names(def), sup: oids(def, 'SUP'), must: oids(def, 'MUST'), may: oids(def, 'MAY') };
}

export function buildSchema(attributeTypes: readonly string[], objectClasses: readonly string[], types = EXCHANGE_OBJECT_TYPES): ConnectorSchema {
  const attrs = new Map<string, AttributeTypeDef>();
  for (const a of attributeTypes.map(parseAttributeType)) for (const n of a.names) attrs.set(n.toLowerCase(), a);
  const classes = new Map<string, ObjectClassDef>();
  for (const c of objectClasses.map(parseObjectClass)) for (const n of c.names) classes.set(n.toLowerCase(), c);

  const syntaxOf = (a: AttributeTypeDef, depth = 0): string | undefined =>
    a.syntax ?? (a.sup && depth < 10 ? (attrs.get(a.sup.toLowerCase()) ? syntaxOf(attrs.get(a.sup.toLowerCase())!, depth + 1) : undefined) : undefined);
  const canonical = (name: string) => attrs.get(name.toLowerCase())?.names[0] ?? name;

  const collect = (className: string, seen = new Set<string>()): { must: Set<string>; may: Set<string> } => {
    const out = { must: new Set<string>(), may: new Set<string>() };
    const c = classes.get(className.toLowerCase());
    if (!c || seen.has(c.oid)) return out;
    seen.add(c.oid);
    for (const sup of c.sup) {
      const inherited = collect(sup, seen);
      inherited.must.forEach((x) => out.must.add(x));
      inherited.may.forEach((x) => out.may.add(x));
    }
    c.must.forEach((x) => out.must.add(canonical(x)));
    c.may.forEach((x) => out.may.add(canonical(x)));
    return out;
  };

  const objectTypes: SchemaObjectType[] = [];
  const used = new Set<string>();
  for (const [type, classNames] of Object.entries(types)) {
    const must = new Set<string>();
    const may = new Set<string>();
    for (const cn of classNames) {
      const r = collect(cn);
      r.must.forEach((x) => must.add(x));
      r.may.forEach((x) => may.add(x));
    }
    must.delete('objectClass');
    may.delete('objectClass');
    const all = [...new Set([...must, ...may])].sort();
    all.forEach((a) => used.add(a));
    objectTypes.push({ name: type, attributes: all, mandatory: [...must].sort() });
  }
  const attributes: SchemaAttribute[] = [...used].sort().map((name) => {
    const def = attrs.get(name.toLowerCase());
    return {
      name,
      aliases: def ? def.names.slice(1) : [],
      syntax: (def && SYNTAX[syntaxOf(def) ?? '']) ?? 'string',
      multiValued: def ? !def.singleValue : true,
    };
  });
  return { objectTypes, attributes };
}

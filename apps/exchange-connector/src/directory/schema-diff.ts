import type { ConnectorSchema } from '@metaweave/connector-sdk';

/** What changed in a directory's schema since the last refresh (MIIS "Refresh schema"). */
export interface SchemaDiff {
  readonly first: boolean;
  readonly added: { readonly objectTypes: readonly string[]; readonly attributes: readonly string[] };
  readonly removed: { readonly objectTypes: readonly string[]; readonly attributes: readonly string[] };
  /** Attributes still there whose syntax or cardinality changed. */
  readonly changed: readonly { readonly attribute: string; readonly before: string; readonly after: string }[];
  /** Object types whose attribute lists lost something still declared elsewhere. */
  readonly objectTypesLosingAttributes: readonly { readonly objectType: string; readonly attributes: readonly string[] }[];
}

const key = (s: string) => s.toLowerCase();

/** Compares two schemas by name (case-insensitive); `before` null means no earlier snapshot. */
export function diffSchema(before: ConnectorSchema | null, after: ConnectorSchema): SchemaDiff {
  const b = before ?? { objectTypes: [], attributes: [] };
  const names = (xs: readonly { name: string }[]) => new Map(xs.map((x) => [key(x.name), x.name]));
  const [bo, ao, ba, aa] = [names(b.objectTypes), names(after.objectTypes), names(b.attributes), names(after.attributes)];
  const minus = (x: Map<string, string>, y: Map<string, string>) => [...x].filter(([k]) => !y.has(k)).map(([, v]) => v).sort();
  const describe = (a: ConnectorSchema['attributes'][number]) => `${a.syntax}${a.multiValued ? ', multi-valued' : ', single-valued'}`;
  const beforeAttrs = new Map(b.attributes.map((a) => [key(a.name), a]));
  const changed = after.attributes
    .filter((a) => beforeAttrs.has(key(a.name)) && describe(beforeAttrs.get(key(a.name))!) !== describe(a))
    .map((a) => ({ attribute: a.name, before: describe(beforeAttrs.get(key(a.name))!), after: describe(a) }));
  const beforeTypes = new Map(b.objectTypes.map((t) => [key(t.name), t]));
  const losing = after.objectTypes
    .map((t) => {
      const was = beforeTypes.get(key(t.name));
      const now = new Set(t.attributes.map(key));
      return { objectType: t.name, attributes: (was?.attributes ?? []).filter((x) => !now.has(key(x))).sort() };
    })
    .filter((x) => x.attributes.length > 0);
  return {
    first: before === null,
    added: { objectTypes: minus(ao, bo), attributes: minus(aa, ba) },
    removed: { objectTypes: minus(bo, ao), attributes: minus(ba, aa) },
    changed,
    objectTypesLosingAttributes: losing,
  };
}

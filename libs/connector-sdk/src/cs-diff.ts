import type { AttributeDelta, AttributeValue, Attributes } from '@metaweave/contracts';

/** One object as the connected directory returned it, normalised by the connector. */
export interface CsImage {
  readonly anchor: string;
  readonly partition: string;
  readonly dn: string;
  readonly objectType: string;
  readonly attributes: Attributes;
}

/** What the connector space holds for an object: the last imported image and its version. */
export interface StoredCsObject extends CsImage {
  readonly version: number;
  readonly deleted: boolean;
}

export interface CsChange {
  readonly change: 'add' | 'update' | 'rename' | 'delete';
  readonly image: CsImage;
  readonly previousDn: string | null;
  readonly delta: readonly AttributeDelta[];
  /** The object's version after this change. */
  readonly version: number;
}

const canon = (v: AttributeValue) => JSON.stringify(v);

function sameValues(a: readonly AttributeValue[], b: readonly AttributeValue[]): boolean {
  if (a.length !== b.length) return false;
  const x = a.map(canon).sort();
  const y = b.map(canon).sort();
  return x.every((v, i) => v === y[i]);
}

/** Attribute-level difference between two images; attribute names compare case-insensitively. */
export function diffAttributes(before: Attributes, after: Attributes): AttributeDelta[] {
  const lower = (o: Attributes) => new Map(Object.entries(o).map(([k, v]) => [k.toLowerCase(), { name: k, values: v }]));
  const b = lower(before);
  const a = lower(after);
  const delta: AttributeDelta[] = [];
  for (const [key, { name, values }] of a) {
    const old = b.get(key);
    if (!old || old.values.length === 0) {
      if (values.length > 0) delta.push({ name, op: 'add', values });
    } else if (values.length === 0) {
      delta.push({ name, op: 'delete', values: old.values });
    } else if (!sameValues(old.values, values)) {
      delta.push({ name, op: 'replace', values });
    }
  }
  for (const [key, { name, values }] of b) {
    if (!a.has(key) && values.length > 0) delta.push({ name, op: 'delete', values });
  }
  return delta.sort((x, y) => x.name.localeCompare(y.name));
}

/**
 * Compares what the directory returned with what the connector space holds.
 * Returns null when nothing changed: unchanged objects emit nothing.
 */
export function diffObject(stored: StoredCsObject | undefined, next: CsImage): CsChange | null {
  if (!stored || stored.deleted) {
    return { change: 'add', image: next, previousDn: null, delta: [], version: (stored?.version ?? 0) + 1 };
  }
  const delta = diffAttributes(stored.attributes, next.attributes);
  const renamed = stored.dn.toLowerCase() !== next.dn.toLowerCase();
  if (!renamed && delta.length === 0 && stored.objectType === next.objectType) return null;
  return {
    change: renamed ? 'rename' : 'update',
    image: next,
    previousDn: renamed ? stored.dn : null,
    delta,
    version: stored.version + 1,
  };
}

export interface FullImportDeletes {
  /** Objects to stage as deletes: present in the CS, absent from a read that completed. */
  readonly deletes: readonly CsChange[];
  /** Deletes not staged because the read did not complete without errors (invariant 4). */
  readonly withheld: number;
}

/**
 * After a full import of one partition: what the connector space holds but the directory no longer
 * returned. Only positive evidence deletes — a read with errors withholds every delete.
 */
export function fullImportDeletes(
  partitionObjects: Iterable<StoredCsObject>,
  seenAnchors: ReadonlySet<string>,
  readCompletedWithoutErrors: boolean,
): FullImportDeletes {
  const missing = [...partitionObjects].filter((o) => !o.deleted && !seenAnchors.has(o.anchor));
  if (!readCompletedWithoutErrors) return { deletes: [], withheld: missing.length };
  return {
    deletes: missing.map((o) => ({
      change: 'delete' as const,
      image: { anchor: o.anchor, partition: o.partition, dn: o.dn, objectType: o.objectType, attributes: {} },
      previousDn: null,
      delta: [],
      version: o.version + 1,
    })),
    withheld: 0,
  };
}

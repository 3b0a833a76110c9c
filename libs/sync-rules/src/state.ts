import type { AttributeValue, Attributes, MvAttributeLineage, MvConnectorLink } from '@metaweave/contracts';
import { canonicalJson, type RuleSet } from './load';

/**
 * MIIS connector states of a CS object (domain.md §1.3). `filtered` is MIIS' filtered
 * disconnector (`DisconnectedByFilter`); placeholders are not kept.
 */
export type ConnectorState = 'normal' | 'explicit' | 'disconnector' | 'explicit-disconnector' | 'filtered';

export const LINKED_STATES: readonly ConnectorState[] = ['normal', 'explicit'];

/** The engine's copy of one CS object: its last image, its connector state and its MV link. */
export interface CsRecord {
  readonly connector: string;
  readonly partition: string;
  readonly anchor: string;
  readonly objectType: string;
  readonly dn: string;
  readonly attributes: Attributes;
  readonly csVersion: number;
  state: ConnectorState;
  mvObjectId: string | null;
  /** Values exported to this object and not yet seen in an import (MIIS unconfirmed export). */
  pendingExport: Record<string, AttributeValue[]>;
}

/** The values one CS object contributes to one MV attribute through one import flow. */
export interface Contribution {
  readonly connector: string;
  readonly anchor: string;
  readonly flow: string;
  readonly values: readonly AttributeValue[];
  readonly rulesVersion: string;
  readonly at: string;
}

/** A provisioned add sent to a connector, waiting for the object to come back in an import. */
export interface PendingProvision {
  readonly connector: string;
  readonly dn: string;
  readonly exportId: string;
  readonly rule: string;
}

/** One metaverse object in the write model. Attributes are derived from contributions by precedence. */
export interface MvObject {
  readonly id: string;
  objectType: string;
  version: number;
  deleted: boolean;
  contributions: Record<string, Contribution[]>;
  connectors: MvConnectorLink[];
  provisioning: PendingProvision[];
}

export const csKey = (connector: string, anchor: string): string => `${connector}\u0000${anchor}`;

/** The key a value has in the join index (type-tagged, exact). */
export function valueKey(v: AttributeValue): string {
  if (typeof v === 'string') return `s:${v}`;
  if (typeof v === 'number') return `n:${v}`;
  if (typeof v === 'boolean') return `t:${v}`;
  return 'b64' in v ? `b:${v.b64}` : `r:${v.ref}`;
}

/** Multi-valued equality, order-insensitive. */
export function sameValues(a: readonly AttributeValue[] | undefined, b: readonly AttributeValue[] | undefined): boolean {
  const x = (a ?? []).map(valueKey).sort();
  const y = (b ?? []).map(valueKey).sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Ranked order of contributors to one MV attribute: the attribute's `order`, then the file's connector order. */
function rank(ruleset: RuleSet, mvType: string, attribute: string): string[] {
  const declared = ruleset.rules.metaverse[mvType]?.attributes[attribute]?.order ?? [];
  return [...declared, ...Object.keys(ruleset.rules.connectors).filter((c) => !declared.includes(c))];
}

/** The contribution that wins an MV attribute under its precedence (ranked or equal). */
export function winner(ruleset: RuleSet, mv: Pick<MvObject, 'objectType' | 'contributions'>, attribute: string): Contribution | undefined {
  const contributions = (mv.contributions[attribute] ?? []).filter((c) => c.values.length > 0);
  if (contributions.length === 0) return undefined;
  const mode = ruleset.rules.metaverse[mv.objectType]?.attributes[attribute]?.precedence ?? 'ranked';
  const order = rank(ruleset, mv.objectType, attribute);
  const position = (c: Contribution) => {
    const i = order.indexOf(c.connector);
    return i < 0 ? order.length : i;
  };
  return [...contributions].sort((a, b) => {
    if (mode === 'equal' && a.at !== b.at) return a.at < b.at ? 1 : -1; // last writer wins
    return position(a) - position(b) || (a.anchor < b.anchor ? -1 : a.anchor > b.anchor ? 1 : 0);
  })[0];
}

/** The MV object's attributes and their lineage, as precedence decides them now. */
export function resolveAttributes(ruleset: RuleSet, mv: Pick<MvObject, 'objectType' | 'contributions'>): { attributes: Attributes; lineage: MvAttributeLineage[] } {
  const attributes: Record<string, readonly AttributeValue[]> = {};
  const lineage: MvAttributeLineage[] = [];
  for (const attribute of Object.keys(mv.contributions).sort()) {
    const w = winner(ruleset, mv, attribute);
    if (!w) continue;
    attributes[attribute] = w.values;
    lineage.push({ attribute, connector: w.connector, anchor: w.anchor, flow: w.flow, rulesVersion: w.rulesVersion, at: w.at });
  }
  return { attributes, lineage };
}

/** Entries of the join index for one MV object: its indexed attributes' values. */
export function indexEntries(ruleset: RuleSet, mv: MvObject): { attribute: string; key: string }[] {
  if (mv.deleted) return [];
  const declared = ruleset.rules.metaverse[mv.objectType]?.attributes ?? {};
  const { attributes } = resolveAttributes(ruleset, mv);
  const out: { attribute: string; key: string }[] = [];
  for (const [attribute, def] of Object.entries(declared)) {
    if (!def.indexed) continue;
    for (const v of attributes[attribute] ?? []) out.push({ attribute, key: valueKey(v) });
  }
  return out;
}

/** A stable fingerprint of what an MV event shows (attributes, connectors, type, deleted). */
export function visibleState(ruleset: RuleSet, mv: MvObject): string {
  return canonicalJson({ t: mv.objectType, d: mv.deleted, a: resolveAttributes(ruleset, mv).attributes, c: mv.connectors });
}

export function cloneMv(mv: MvObject): MvObject {
  return JSON.parse(JSON.stringify(mv)) as MvObject;
}

export function cloneCs(cs: CsRecord): CsRecord {
  return JSON.parse(JSON.stringify(cs)) as CsRecord;
}

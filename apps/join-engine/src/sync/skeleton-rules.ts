import type { Attributes, CsObjectChangedV1, MvConnectorLink, MvObjectChangedV2 } from '@metaweave/contracts';

/**
 * The walking skeleton's synchronization: every CS object projects to its own MV object, all
 * attributes flow directly, and the MV object is deleted with its last connector. It is a pure
 * decision over data; the join engine issue replaces it with rules as data (libs/sync-rules):
 * join rules, precedence, export flows, provisioning.
 */
export const SKELETON_RULES_VERSION = 'skeleton-1';

const PROJECTION: Readonly<Record<string, string>> = {
  mailbox: 'person',
  customRecipient: 'contact',
  distributionList: 'group',
  user: 'person',
  group: 'group',
};

export interface MvState {
  readonly id: string;
  readonly objectType: string;
  readonly version: number;
  readonly deleted: boolean;
  readonly attributes: Attributes;
  readonly connectors: readonly MvConnectorLink[];
}

export interface CsLink {
  readonly connector: string;
  readonly anchor: string;
  readonly mvObjectId: string;
  readonly csVersion: number;
}

export interface SyncDecision {
  readonly mv: MvState;
  readonly link: CsLink | null;
  readonly event: MvObjectChangedV2;
}

/**
 * Decides what one CS change does to the metaverse. Returns null when it changes nothing: a
 * redelivered or stale change (csVersion not newer than the link's), or a delete of an object
 * that never reached the metaverse.
 */
export function decide(change: CsObjectChangedV1, link: CsLink | undefined, mv: MvState | undefined, newId: () => string): SyncDecision | null {
  if (link && change.csVersion <= link.csVersion) return null;
  const cause = { connector: change.connector, anchor: change.anchor, csVersion: change.csVersion };
  const connector: MvConnectorLink = { connector: change.connector, anchor: change.anchor, dn: change.dn, state: 'connected' };

  if (change.change === 'delete') {
    if (!link || !mv || mv.deleted) return null;
    const connectors = mv.connectors.filter((c) => !(c.connector === change.connector && c.anchor === change.anchor));
    const deleted = connectors.length === 0;
    const next: MvState = { ...mv, version: mv.version + 1, deleted, connectors };
    return { mv: next, link: null, event: event(next, deleted ? 'deleted' : 'updated', cause) };
  }

  if (!link || !mv || mv.deleted) {
    const next: MvState = {
      id: newId(),
      objectType: PROJECTION[change.objectType] ?? change.objectType,
      version: 1,
      deleted: false,
      attributes: change.attributes,
      connectors: [connector],
    };
    return { mv: next, link: { ...cause, mvObjectId: next.id }, event: event(next, 'projected', cause) };
  }

  const connectors = mv.connectors.map((c) => (c.connector === change.connector && c.anchor === change.anchor ? connector : c));
  const next: MvState = { ...mv, version: mv.version + 1, attributes: change.attributes, connectors };
  return { mv: next, link: { ...link, csVersion: change.csVersion }, event: event(next, 'updated', cause) };
}

function event(mv: MvState, change: MvObjectChangedV2['change'], cause: MvObjectChangedV2['cause']): MvObjectChangedV2 {
  return {
    mvObjectId: mv.id,
    objectType: mv.objectType,
    version: mv.version,
    change,
    attributes: mv.attributes,
    connectors: mv.connectors,
    lineage: [],
    rulesVersion: SKELETON_RULES_VERSION,
    cause,
    reason: change === 'projected' ? 'projection' : change === 'deleted' ? 'deletion-rule' : 'import-flow',
  };
}

import type { Attributes, Message, MvAttributeLineage, MvConnectorLink } from '@metaweave/contracts';

/** One metaverse object as the read model holds it. */
export interface MvRow {
  readonly id: string;
  readonly objectType: string;
  readonly version: number;
  readonly deleted: boolean;
  readonly attributes: Attributes;
  readonly connectors: readonly MvConnectorLink[];
  readonly lineage: readonly MvAttributeLineage[];
  readonly rulesVersion: string;
  readonly reason: string;
  readonly lastEventId: string;
  readonly updatedAt: string;
}

/**
 * The read model is a pure function of the MV event log (invariant 7): given the row as it is and
 * the next event for that object, the row as it must be. An event not newer than the row is a
 * redelivery or arrived out of order and changes nothing (null).
 */
export function applyMvEvent(current: Pick<MvRow, 'version'> | undefined, event: Message<'mv.object.changed'>): MvRow | null {
  const d = event.data;
  if (current && d.version <= current.version) return null;
  return {
    id: d.mvObjectId,
    objectType: d.objectType,
    version: d.version,
    deleted: d.change === 'deleted',
    attributes: d.attributes,
    connectors: d.connectors,
    lineage: d.lineage,
    rulesVersion: d.rulesVersion,
    reason: d.reason,
    lastEventId: event.eventId,
    updatedAt: event.occurredAt,
  };
}

/**
 * Folds a batch of MV events into the newest image per object (events carry full images, so the
 * newest version is the row). The database then keeps a row only where it is newer than what it
 * holds, which makes redelivery and replay change nothing.
 */
export function foldMvEvents(events: readonly Message<'mv.object.changed'>[]): MvRow[] {
  const rows = new Map<string, MvRow>();
  for (const e of events) {
    const next = applyMvEvent(rows.get(e.data.mvObjectId), e);
    if (next) rows.set(next.id, next);
  }
  return [...rows.values()];
}

/** The latest item per key, by a rank that grows (run event sequence, export attempt); ties: the later one. */
export function latestBy<T>(items: readonly T[], key: (t: T) => string, rank: (t: T) => number): T[] {
  const out = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    const seen = out.get(k);
    if (!seen || rank(item) >= rank(seen)) out.set(k, item);
  }
  return [...out.values()];
}

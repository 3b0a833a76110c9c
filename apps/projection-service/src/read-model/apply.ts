import type { Attributes, Message, MvConnectorLink } from '@metaweave/contracts';

/** One metaverse object as the read model holds it. */
export interface MvRow {
  readonly id: string;
  readonly objectType: string;
  readonly version: number;
  readonly deleted: boolean;
  readonly attributes: Attributes;
  readonly connectors: readonly MvConnectorLink[];
  readonly rulesVersion: string;
  readonly lastEventId: string;
  readonly updatedAt: string;
}

/**
 * The read model is a pure function of the MV event log (invariant 7): given the row as it is and
 * the next event for that object, the row as it must be. An event not newer than the row is a
 * redelivery or arrived out of order and changes nothing (null).
 */
export function applyMvEvent(current: MvRow | undefined, event: Message<'mv.object.changed'>): MvRow | null {
  const d = event.data;
  if (current && d.version <= current.version) return null;
  return {
    id: d.mvObjectId,
    objectType: d.objectType,
    version: d.version,
    deleted: d.change === 'deleted',
    attributes: d.attributes,
    connectors: d.connectors,
    rulesVersion: d.rulesVersion,
    lastEventId: event.eventId,
    updatedAt: event.occurredAt,
  };
}

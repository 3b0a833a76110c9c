import type { Message, MvConnectorLink } from '@metaweave/contracts';

/** One NT4 account of a metaverse object, as the routing view keeps it. */
export interface Nt4Account {
  readonly connector: string;
  /** objectSid string: the connector's anchor. */
  readonly anchor: string;
  /** Domain part of the DN `DOMAIN\accountName`. */
  readonly domain: string;
  readonly accountName: string;
}

/** What the routing view holds for one metaverse object. */
export interface RouteRow {
  readonly mvObjectId: string;
  readonly objectType: string;
  readonly version: number;
  readonly deleted: boolean;
  readonly accounts: readonly Nt4Account[];
}

/**
 * Which connectors are NT4 connectors: the configured ones, and — so that an account of a domain
 * not configured yet is reported as such rather than as "no NT4 account" — any whose name starts
 * with `nt4-`.
 */
export function isNt4Connector(connector: string, configured: ReadonlySet<string>): boolean {
  return configured.has(connector) || connector.startsWith('nt4-');
}

/** `DOMAIN\accountName` → its parts; null if the DN is not of that form. */
export function parseNt4Dn(dn: string): { domain: string; accountName: string } | null {
  const m = /^([^\\]+)\\(.+)$/.exec(dn);
  return m ? { domain: m[1]!.toUpperCase(), accountName: m[2]! } : null;
}

export function nt4Accounts(links: readonly MvConnectorLink[], configured: ReadonlySet<string>): Nt4Account[] {
  const accounts: Nt4Account[] = [];
  for (const link of links) {
    if (!isNt4Connector(link.connector, configured)) continue;
    const parsed = parseNt4Dn(link.dn);
    // An NT4 link whose DN is not DOMAIN\name cannot be addressed; keep it with what we know so
    // the API can say why (an empty account name is refused when planning).
    accounts.push({ connector: link.connector, anchor: link.anchor, domain: parsed?.domain ?? '', accountName: parsed?.accountName ?? '' });
  }
  return accounts.sort((a, b) => (a.connector + a.anchor).localeCompare(b.connector + b.anchor));
}

/**
 * The routing view is a function of the MV event log: given the row as it is and the next event
 * for that object, the row as it must be. An event not newer than the row (a redelivery, or one
 * that arrived out of order) changes nothing: null.
 */
export function applyMvEventToRoute(current: RouteRow | undefined, event: Message<'mv.object.changed'>, configured: ReadonlySet<string>): RouteRow | null {
  const d = event.data;
  if (current && d.version <= current.version) return null;
  const deleted = d.change === 'deleted';
  return {
    mvObjectId: d.mvObjectId,
    objectType: d.objectType,
    version: d.version,
    deleted,
    accounts: deleted ? [] : nt4Accounts(d.connectors, configured),
  };
}

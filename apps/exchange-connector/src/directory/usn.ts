/**
 * Pure parts of the `usn` delta strategy (a real Exchange 5.5 server): what a watermark says, when
 * it can no longer be trusted, and what each entry changed since it means. The LDAP reading is in
 * exchange-directory.ts; the decisions are in docs/adr/0050-usn-delta-strategy.md.
 *
 * USNs are counters local to one server: a watermark is only valid against the server that issued
 * it. Deletes are seen only as tombstones (`Is-Deleted: TRUE`), which the server garbage-collects
 * after the tombstone lifetime; a watermark older than that, or a server that says it removed
 * tombstones above the watermark, can no longer prove that no delete was missed.
 */

export interface UsnWatermark {
  /** Identity of the server whose USNs these are (its DSA name, or the URL when it tells none). */
  readonly server: string;
  /** Highest USN-Changed covered: every change up to it has been read. */
  readonly usn: number;
  /** When the watermark was taken (tombstones younger than the lifetime are still there). */
  readonly at: Date;
}

const PREFIX = 'usn:';

export function formatUsnWatermark(w: UsnWatermark): string {
  return PREFIX + JSON.stringify({ server: w.server, usn: w.usn, at: w.at.toISOString() });
}

export function parseUsnWatermark(value: string): UsnWatermark | null {
  if (!value.startsWith(PREFIX)) return null;
  try {
    const v = JSON.parse(value.slice(PREFIX.length)) as { server?: unknown; usn?: unknown; at?: unknown };
    if (typeof v.server !== 'string' || !Number.isSafeInteger(v.usn) || (v.usn as number) < 0 || typeof v.at !== 'string' || Number.isNaN(Date.parse(v.at))) return null;
    return { server: v.server, usn: v.usn as number, at: new Date(v.at) };
  } catch {
    return null;
  }
}

export interface ServerState {
  /** The server answering now. */
  readonly server: string;
  /** USN of the last tombstone the server garbage-collected, when it tells (PR_EMS_AB_USN_LAST_OBJ_REM). */
  readonly lastObjectRemovedUsn: number | null;
  readonly now: Date;
  readonly tombstoneLifetimeMs: number;
}

/**
 * Why a delta import from `watermark` could miss a change (then a full import must run), or null
 * when it is safe. Never guesses in favour of the delta: a missed delete is the one error a
 * metadirectory cannot recover from by itself.
 */
export function usnWatermarkDistrust(value: string, state: ServerState): string | null {
  const w = parseUsnWatermark(value);
  if (!w) return `the watermark '${value.slice(0, 60)}' is not a usn watermark (the delta strategy changed)`;
  if (w.server.toLowerCase() !== state.server.toLowerCase()) {
    return `the watermark holds USNs of server '${w.server}' but '${state.server}' answers now: USNs are local to one server`;
  }
  if (state.lastObjectRemovedUsn !== null && state.lastObjectRemovedUsn > w.usn) {
    return `tombstones purged past the watermark (last removed USN ${state.lastObjectRemovedUsn} > watermark ${w.usn}): deletes since may be lost`;
  }
  const age = state.now.getTime() - w.at.getTime();
  if (age > state.tombstoneLifetimeMs) {
    return `the watermark is ${Math.round(age / 3_600_000)} h old, longer than the tombstone lifetime (${Math.round(state.tombstoneLifetimeMs / 3_600_000)} h): deletes may have been purged`;
  }
  return null;
}

/** What a delta read needs of one entry found with `USN-Changed` above the watermark. */
export interface UsnEntry {
  readonly dn: string;
  readonly anchor: string | null;
  readonly usnChanged: number | null;
  readonly usnCreated: number | null;
  readonly deleted: boolean;
}

export type UsnEffect =
  | { readonly kind: 'add' | 'update'; readonly dn: string }
  | { readonly kind: 'delete'; readonly dn: string; readonly anchor: string | null }
  /** Created and deleted since the watermark: the connector space never saw it. */
  | { readonly kind: 'skip'; readonly dn: string };

/** Adds told from updates by `USN-Created`, deletes from tombstones. */
export function usnEffect(entry: UsnEntry, watermark: number): UsnEffect {
  const createdSince = entry.usnCreated !== null && entry.usnCreated > watermark;
  if (entry.deleted) return createdSince ? { kind: 'skip', dn: entry.dn } : { kind: 'delete', dn: entry.dn, anchor: entry.anchor };
  return { kind: createdSince ? 'add' : 'update', dn: entry.dn };
}

/** The highest USN among `values` (integers as LDAP returns them), or `floor` when none is higher. */
export function highestUsn(values: readonly (string | undefined)[], floor: number): number {
  let max = floor;
  for (const v of values) {
    const n = v === undefined ? NaN : Number(v);
    if (Number.isSafeInteger(n) && n > max) max = n;
  }
  return max;
}

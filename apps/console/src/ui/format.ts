import type { AttributeValue } from '../api/types';

/** A binary SID (revision 1) as its string form, or null if the bytes are not one. */
export function sidString(b64: string): string | null {
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
  if (bytes.length < 8 || bytes[0] !== 1) return null;
  const count = bytes[1]!;
  if (bytes.length !== 8 + 4 * count) return null;
  let authority = 0;
  for (let i = 2; i < 8; i++) authority = authority * 256 + bytes[i]!;
  const subs: number[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) subs.push(view.getUint32(8 + 4 * i, true));
  return `S-1-${authority}${subs.map((s) => `-${s}`).join('')}`;
}

/** One attribute value as text: strings as they are, binary SIDs decoded, other binaries by size. */
export function formatValue(v: AttributeValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if ('ref' in v) return `→ ${v.ref}`;
  const sid = sidString(v.b64);
  if (sid) return sid;
  const size = Math.floor((v.b64.replace(/=+$/, '').length * 3) / 4);
  return `binary, ${size} bytes`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function formatDuration(fromIso: string, toIso: string | null, now = Date.now()): string {
  const ms = (toIso ? new Date(toIso).getTime() : now) - new Date(fromIso).getTime();
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s % 60)} s`;
}

/** The MIIS counters a run shows first, in MIIS's order; others follow. */
export const COUNTER_ORDER = [
  'stageAdd',
  'stageUpdate',
  'stageRename',
  'stageDelete',
  'stageNoChange',
  'connectorFlow',
  'disconnectorProjected',
  'provisionedAdd',
  'exportAdd',
  'exportUpdate',
  'exportDelete',
  'heldDeletes',
  'errors',
];

export function counterLabel(name: string): string {
  return name.replace(/([A-Z])/g, '-$1').toLowerCase();
}

export function orderedCounters(counters: Readonly<Record<string, number>>): [string, number][] {
  const known = COUNTER_ORDER.filter((k) => k in counters).map((k) => [k, counters[k]!] as [string, number]);
  const rest = Object.entries(counters)
    .filter(([k]) => !COUNTER_ORDER.includes(k))
    .sort(([a], [b]) => a.localeCompare(b));
  return [...known, ...rest];
}

/** Objects handled so far: the sum of the stage counters (what a progress rate counts). */
export function processed(counters: Readonly<Record<string, number>>): number {
  return Object.entries(counters)
    .filter(([k]) => k.startsWith('stage') || k.startsWith('export'))
    .reduce((n, [, v]) => n + v, 0);
}

/** The name a person would recognise an MV object by. */
export function displayName(attributes: Readonly<Record<string, readonly AttributeValue[]>>): string {
  for (const k of ['displayName', 'cn', 'ntAccount', 'mail', 'uid']) {
    const v = attributes[k]?.[0];
    if (v !== undefined) return formatValue(v);
  }
  return '(no name)';
}

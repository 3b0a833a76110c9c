/**
 * Pure parts of the `accesslog` delta strategy (OpenLDAP's accesslog overlay, the stand-in's
 * change log): which audit records matter to a partition, what each means, where the watermark
 * moves. The LDAP reading is in exchange-directory.ts.
 */

/** One write as `cn=accesslog` records it. */
export interface AuditRecord {
  readonly reqStart: string;
  readonly reqType: 'add' | 'modify' | 'modrdn' | 'delete' | string;
  readonly reqDN: string;
  readonly reqNewRDN?: string;
  readonly reqNewSuperior?: string;
  /** `attr: value` lines of the entry before the change (configured: objectClass rdn uid mail entryUUID). */
  readonly reqOld?: readonly string[];
}

export type AuditEffect =
  | { readonly kind: 'touch'; readonly dn: string }
  | { readonly kind: 'delete'; readonly dn: string; readonly anchor: string | null };

const lower = (s: string) => s.toLowerCase();

/** Is `dn` inside (or equal to) `base`, comparing DNs case-insensitively without spaces after commas. */
export function isUnder(dn: string, base: string): boolean {
  const norm = (x: string) => lower(x).replace(/,\s+/g, ',');
  const d = norm(dn);
  const b = norm(base);
  return d === b || d.endsWith(`,${b}`);
}

export function parentOf(dn: string): string {
  const i = dn.search(/(?<!\\),/);
  return i < 0 ? '' : dn.slice(i + 1);
}

/**
 * What each record means for the partition whose scope is `scope` (a base DN, or a predicate over DNs), in log order: objects to re-read
 * (added, modified, renamed into the partition) and objects deleted (renamed out counts as deleted).
 */
export function auditEffects(records: readonly AuditRecord[], scope: string | ((dn: string) => boolean)): AuditEffect[] {
  const inScope = typeof scope === 'string' ? (dn: string) => isUnder(dn, scope) : scope;
  const effects: AuditEffect[] = [];
  for (const r of [...records].sort((a, b) => (a.reqStart < b.reqStart ? -1 : a.reqStart > b.reqStart ? 1 : 0))) {
    const anchor = oldValue(r.reqOld, 'entryUUID');
    switch (r.reqType) {
      case 'add':
      case 'modify':
        if (inScope(r.reqDN)) effects.push({ kind: 'touch', dn: r.reqDN });
        break;
      case 'modrdn': {
        const newDn = `${r.reqNewRDN},${r.reqNewSuperior ?? parentOf(r.reqDN)}`;
        if (inScope(newDn)) effects.push({ kind: 'touch', dn: newDn });
        else if (inScope(r.reqDN)) effects.push({ kind: 'delete', dn: r.reqDN, anchor: anchor ? lower(anchor) : null });
        break;
      }
      case 'delete':
        if (inScope(r.reqDN)) effects.push({ kind: 'delete', dn: r.reqDN, anchor: anchor ? lower(anchor) : null });
        break;
      default:
        break;
    }
  }
  return effects;
}

function oldValue(lines: readonly string[] | undefined, attribute: string): string | null {
  const prefix = `${lower(attribute)}: `;
  const line = lines?.find((l) => lower(l).startsWith(prefix));
  return line ? line.slice(prefix.length).trim() : null;
}

/**
 * The watermark is `rs:<reqStart>` of the last record processed, or `empty:<ISO time>` when the log
 * had no record when the watermark was taken. It can be trusted while that record is still in the
 * log (the log is purged oldest first) — or, for `empty:`, while it is younger than the purge age.
 */
export type Watermark = { readonly kind: 'record'; readonly reqStart: string } | { readonly kind: 'empty'; readonly at: Date };

export function parseWatermark(value: string): Watermark {
  if (value.startsWith('rs:') && /^\d{14}\.\d{6}Z$/.test(value.slice(3))) return { kind: 'record', reqStart: value.slice(3) };
  if (value.startsWith('empty:') && !Number.isNaN(Date.parse(value.slice(6)))) return { kind: 'empty', at: new Date(value.slice(6)) };
  throw new Error(`not an accesslog watermark: '${value}'`);
}

export function formatWatermark(w: Watermark): string {
  return w.kind === 'record' ? `rs:${w.reqStart}` : `empty:${w.at.toISOString()}`;
}

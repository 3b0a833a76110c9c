import type { MvObjectChangedV2, ExportCommandV1 } from '@metaweave/contracts';
import type { RuleSet } from './load';
import { joinKeysOf, REF_KEY, type MetaverseReader, type ObjectError, type SyncOutcome } from './session';
import { cloneCs, cloneMv, csKey, indexEntries, valueKey, type CsRecord, type MvObject } from './state';

/**
 * The write model in memory: what the engine keeps in PostgreSQL, as maps. Used by the
 * given/when/then specs and usable for dry runs; `commit` applies an outcome the way the engine's
 * transaction does (including the optimistic version check).
 */
export class MemoryMetaverse implements MetaverseReader {
  readonly cs = new Map<string, CsRecord>();
  readonly mv = new Map<string, MvObject>();
  readonly events: MvObjectChangedV2[] = [];
  readonly exports: ExportCommandV1[] = [];
  readonly errors = new Map<string, ObjectError & { retryCount: number }>();

  constructor(private readonly ruleset: () => RuleSet) {}

  async getCs(connector: string, anchor: string): Promise<CsRecord | undefined> {
    const r = this.cs.get(csKey(connector, anchor));
    return r ? cloneCs(r) : undefined;
  }

  async getMv(id: string): Promise<MvObject | undefined> {
    const m = this.mv.get(id);
    return m ? cloneMv(m) : undefined;
  }

  async findMv(mvType: string | undefined, attribute: string, key: string): Promise<string[]> {
    return [...this.mv.values()]
      .filter((m) => !m.deleted && (!mvType || m.objectType === mvType) && indexEntries(this.ruleset(), m).some((e) => e.attribute === attribute && e.key === key))
      .map((m) => m.id);
  }

  async disconnectorsWithKey(attribute: string, key: string): Promise<{ connector: string; anchor: string }[]> {
    return [...this.cs.values()]
      .filter((c) => c.state === 'disconnector' && joinKeysOf(this.ruleset(), c).some((k) => k.attribute === attribute && k.key === key))
      .map((c) => ({ connector: c.connector, anchor: c.anchor }));
  }

  async provisionedMv(connector: string, dn: string): Promise<string | undefined> {
    return [...this.mv.values()].find((m) => !m.deleted && m.provisioning.some((p) => p.connector === connector && p.dn.toLowerCase() === dn.toLowerCase()))?.id;
  }

  async referencing(mvId: string): Promise<string[]> {
    const ref = valueKey({ ref: mvId });
    return [...this.mv.values()].filter((m) => !m.deleted && Object.values(m.contributions).some((list) => list.some((c) => c.values.some((v) => valueKey(v) === ref)))).map((m) => m.id);
  }

  async referrers(connector: string, anchor: string): Promise<{ connector: string; anchor: string }[]> {
    const ref = valueKey({ ref: anchor });
    return [...this.cs.values()]
      .filter((c) => c.connector === connector && joinKeysOf(this.ruleset(), c).some((k) => k.attribute === REF_KEY && k.key === ref))
      .map((c) => ({ connector: c.connector, anchor: c.anchor }));
  }

  /** Applies an outcome; throws when an MV object's version moved since it was read. */
  commit(outcome: SyncOutcome): void {
    for (const change of outcome.mv) {
      const current = this.mv.get(change.mv.id);
      if ((current?.version ?? 0) !== change.expectedVersion) throw new Error(`version conflict on ${change.mv.id}`);
    }
    for (const r of outcome.cs.upserts) this.cs.set(csKey(r.connector, r.anchor), cloneCs(r));
    for (const d of outcome.cs.deletes) this.cs.delete(csKey(d.connector, d.anchor));
    for (const change of outcome.mv) {
      this.mv.set(change.mv.id, cloneMv(change.mv));
      if (change.event) this.events.push(change.event);
    }
    this.exports.push(...outcome.exports);
    for (const s of outcome.succeeded) this.errors.delete(csKey(s.connector, s.anchor));
    for (const e of outcome.errors) {
      const key = csKey(e.connector, e.anchor);
      const prev = this.errors.get(key);
      this.errors.set(key, { ...e, retryCount: prev && prev.type === e.type ? prev.retryCount + 1 : 0 });
    }
  }
}

import type { AttributeDelta, AttributeValue, Attributes, CsObjectChangedV1, ExportCommandV1, MvChangeCause, MvObjectChangedV2 } from '@metaweave/contracts';
import type { RuleSet } from './load';
import type { Condition, ExportFlow, ImportFlow, JoinCondition, ObjectTypeRules, ProvisioningRule } from './model';
import {
  cloneCs,
  cloneMv,
  csKey,
  indexEntries,
  LINKED_STATES,
  resolveAttributes,
  sameValues,
  valueKey,
  visibleState,
  winner,
  type CsRecord,
  type MvObject,
} from './state';
import { TransformError } from './transforms';

/** A CS event names a connector the rules do not know: not retriable, it goes to the dead-letter topic. */
export class UnknownConnectorError extends Error {
  readonly retriable = false;
  constructor(
    readonly connector: string,
    known: readonly string[],
  ) {
    super(`unknown connector '${connector}': the rules define ${known.map((k) => `'${k}'`).join(', ') || 'no connectors'}`);
    this.name = 'UnknownConnectorError';
  }
}

/**
 * Read access to the write model. The engine implements it over PostgreSQL inside its
 * transaction (with row locks); the specs and preview use an in-memory one.
 */
export interface MetaverseReader {
  getCs(connector: string, anchor: string): Promise<CsRecord | undefined>;
  getMv(id: string): Promise<MvObject | undefined>;
  /** Live MV objects (of `mvType`, if given) whose indexed `attribute` has a value with this key. */
  findMv(mvType: string | undefined, attribute: string, key: string): Promise<string[]>;
  /** Disconnectors that have a join key (attribute, key). */
  disconnectorsWithKey(attribute: string, key: string): Promise<{ connector: string; anchor: string }[]>;
  /** The MV object that provisioned an object with this DN into this connector, if pending. */
  provisionedMv(connector: string, dn: string): Promise<string | undefined>;
  /** Live MV objects with a reference to this one in some attribute. */
  referencing(mvId: string): Promise<string[]>;
  /** CS objects whose image references this CS object (`{ref: anchor}` in the same connector). */
  referrers(connector: string, anchor: string): Promise<{ connector: string; anchor: string }[]>;
}

/** A per-object synchronization error (MIIS `import-error` / `mv-retry-error`). */
export interface ObjectError {
  readonly connector: string;
  readonly anchor: string;
  readonly dn: string;
  /** `join-ambiguous`, `join-object-id-must-be-single-valued`, `flow-failure`, `provisioning-failure`. */
  readonly type: string;
  readonly message: string;
}

export interface MvChange {
  readonly mv: MvObject;
  /** Version loaded from the store (0 for a new object). */
  readonly expectedVersion: number;
  /** Null when nothing an event shows changed (internal state only, e.g. a pending provision). */
  readonly event: MvObjectChangedV2 | null;
}

/** Everything one session decided; the engine persists it in one transaction. */
export interface SyncOutcome {
  readonly cs: { readonly upserts: CsRecord[]; readonly deletes: { connector: string; anchor: string }[] };
  readonly mv: MvChange[];
  readonly exports: ExportCommandV1[];
  readonly errors: ObjectError[];
  /** CS objects evaluated without error: their kept errors are cleared. */
  readonly succeeded: { connector: string; anchor: string }[];
  /** MIIS-style counters (`disconnectorProjected`, `connectorFlow`, `provisionedAdd`, …). */
  readonly counters: Record<string, number>;
  /** What happened, step by step (preview shows it). */
  readonly trace: string[];
}

export interface SessionOptions {
  readonly now: () => Date;
  readonly newId: () => string;
  /** Bound on cascaded re-evaluations of disconnectors in one session. */
  readonly maxCascade?: number;
}

type Reason = 'projection' | 'join' | 'provisioned-join' | 'explicit-join' | 'import-flow' | 'recall' | 'deletion-rule' | 'full-sync' | 'connector-filtered';

const PSEUDO = new Set(['$dn', '$partition', '$anchor', '$objectType']);

function csValues(cs: Pick<CsRecord, 'dn' | 'partition' | 'anchor' | 'objectType' | 'attributes'>, name: string): readonly AttributeValue[] {
  switch (name) {
    case '$dn':
      return [cs.dn];
    case '$partition':
      return [cs.partition];
    case '$anchor':
      return [cs.anchor];
    case '$objectType':
      return [cs.objectType];
    default:
      return PSEUDO.has(name) ? [] : (cs.attributes[name] ?? []);
  }
}

const asList = <T>(v: T | readonly T[]): readonly T[] => (Array.isArray(v) ? (v as readonly T[]) : [v as T]);
const lc = (v: AttributeValue): AttributeValue => (typeof v === 'string' ? v.toLowerCase() : v);

/** Does a filter / provisioning condition hold on these values? */
export function holds(condition: Condition, values: readonly AttributeValue[]): boolean {
  switch (condition.op) {
    case 'present':
      return values.length > 0;
    case 'absent':
      return values.length === 0;
    case 'equals':
      return values.some((v) => valueKey(lc(v)) === valueKey(lc(condition.value!)));
    case 'notEquals':
      return !values.some((v) => valueKey(lc(v)) === valueKey(lc(condition.value!)));
    case 'startsWith':
      return values.some((v) => typeof v === 'string' && v.toLowerCase().startsWith(String(condition.value).toLowerCase()));
  }
}

/**
 * One synchronization pass (MIIS §1.6) over one or more CS objects: inbound (filter, join or
 * projection, import flow by precedence, disconnect + deletion rule + recall), a cascade that
 * re-evaluates disconnectors which can now join, then outbound for every changed MV object
 * (provisioning, export flow with loop prevention, deprovisioning). It reads through a
 * MetaverseReader and never writes: `finish()` returns what to persist. Pure apart from the
 * reads; clock and ids are injected.
 */
export class SyncSession {
  private readonly csOverlay = new Map<string, CsRecord | null>();
  private readonly mvOverlay = new Map<string, MvObject>();
  private readonly mvOriginal = new Map<string, { version: number; visible: string | null; index: Set<string> }>();
  private readonly mvWhy = new Map<string, { reason: Reason; cause: MvChangeCause }>();
  private readonly exports: ExportCommandV1[] = [];
  private readonly errors: ObjectError[] = [];
  private readonly evaluated = new Map<string, { connector: string; anchor: string }>();
  private readonly failed = new Set<string>();
  private readonly counters: Record<string, number> = {};
  private readonly trace: string[] = [];
  private readonly cascade: { attribute: string; key: string }[] = [];
  /** CS objects that became connectors: objects referencing them re-resolve their references. */
  private readonly refCascade: { connector: string; anchor: string }[] = [];
  private readonly version: string;

  constructor(
    private readonly ruleset: RuleSet,
    private readonly reader: MetaverseReader,
    private readonly options: SessionOptions,
  ) {
    this.version = ruleset.version;
  }

  // ---------------------------------------------------------------- entry points

  /** A CS change event from a connector. Stale or redelivered versions change nothing. */
  async applyChange(change: CsObjectChangedV1): Promise<void> {
    this.connectorRules(change.connector);
    const prev = await this.getCs(change.connector, change.anchor);
    if (prev && change.csVersion <= prev.csVersion) {
      this.note(`${change.connector}/${change.anchor}: csVersion ${change.csVersion} not newer than ${prev.csVersion}, ignored`);
      return;
    }
    const cause = { connector: change.connector, anchor: change.anchor, csVersion: change.csVersion };
    if (change.change === 'delete') {
      if (!prev) return;
      this.evaluated.set(csKey(prev.connector, prev.anchor), { connector: prev.connector, anchor: prev.anchor });
      if (LINKED_STATES.includes(prev.state)) await this.disconnect(prev, 'disconnector', cause, 'deletion-rule', true);
      this.count('connectorDelete');
      this.csOverlay.set(csKey(prev.connector, prev.anchor), null);
      this.note(`${prev.connector}/${prev.anchor}: deleted from the connector space`);
      return;
    }
    const record: CsRecord = {
      connector: change.connector,
      partition: change.partition,
      anchor: change.anchor,
      objectType: change.objectType,
      dn: change.dn,
      attributes: change.attributes,
      csVersion: change.csVersion,
      state: prev?.state ?? 'disconnector',
      mvObjectId: prev?.mvObjectId ?? null,
      pendingExport: confirmExports(prev?.pendingExport ?? {}, change.attributes),
    };
    this.csOverlay.set(csKey(record.connector, record.anchor), record);
    await this.evaluate(record, cause, 'import-flow');
  }

  /** Full synchronization of one stored CS object under the current rules. */
  async resync(connector: string, anchor: string): Promise<void> {
    this.connectorRules(connector);
    const record = await this.getCs(connector, anchor);
    if (!record) return;
    await this.evaluate(record, { connector, anchor, csVersion: record.csVersion }, 'full-sync');
  }

  /** Joiner: link a CS object to a chosen MV object as an explicit connector. */
  async explicitJoin(connector: string, anchor: string, mvId: string): Promise<void> {
    const record = await this.getCs(connector, anchor);
    const mv = await this.getMv(mvId);
    if (!record || !mv || mv.deleted) throw new Error(`explicit join: ${!record ? `no CS object ${connector}/${anchor}` : `no MV object ${mvId}`}`);
    const cause = { connector, anchor, csVersion: record.csVersion };
    if (LINKED_STATES.includes(record.state) && record.mvObjectId !== mvId) await this.disconnect(record, 'disconnector', cause, 'recall', true);
    this.link(record, mv, 'explicit', cause, 'explicit-join');
    await this.importFlow(record, mv, cause, 'explicit-join');
  }

  /** Manual disconnect: a normal disconnector (join rules apply again) or an explicit one (they never do). */
  async manualDisconnect(connector: string, anchor: string, explicit: boolean): Promise<void> {
    const record = await this.getCs(connector, anchor);
    if (!record) throw new Error(`manual disconnect: no CS object ${connector}/${anchor}`);
    const cause = { connector, anchor, csVersion: record.csVersion };
    if (LINKED_STATES.includes(record.state)) await this.disconnect(record, explicit ? 'explicit-disconnector' : 'disconnector', cause, 'recall', true);
    else record.state = explicit ? 'explicit-disconnector' : 'disconnector';
    this.touchCs(record);
  }

  /** Runs the cascade and the outbound phase and returns what to persist. */
  async finish(): Promise<SyncOutcome> {
    await this.runCascade();
    const changed = [...this.mvWhy.keys()];
    const outboundDone = new Set<string>();
    for (const id of changed) {
      const mv = this.mvOverlay.get(id)!;
      if (mv.deleted) continue;
      await this.provision(mv);
      await this.exportFlow(mv);
      outboundDone.add(id);
      for (const other of await this.reader.referencing(id)) {
        if (outboundDone.has(other) || this.mvWhy.has(other)) continue;
        const o = await this.getMv(other);
        if (o && !o.deleted) await this.exportFlow(o);
        outboundDone.add(other);
      }
    }
    return this.outcome();
  }

  // ---------------------------------------------------------------- inbound

  private async evaluate(record: CsRecord, cause: MvChangeCause, reason: Reason): Promise<void> {
    const key = csKey(record.connector, record.anchor);
    this.evaluated.set(key, { connector: record.connector, anchor: record.anchor });
    const typeRules = this.connectorRules(record.connector).objectTypes[record.objectType];
    const label = `${record.connector}/${record.anchor}`;
    if (!typeRules) {
      this.note(`${label}: no rules for object type '${record.objectType}'; ${LINKED_STATES.includes(record.state) ? 'stays linked, no flows' : 'remains a disconnector'}`);
      this.touchCs(record);
      return;
    }
    const filtered = typeRules.filter.find((c) => holds(c, csValues(record, c.attribute)));
    if (filtered) {
      this.note(`${label}: connector filter matches (${filtered.attribute} ${filtered.op}${filtered.value !== undefined ? ` ${filtered.value}` : ''})`);
      if (LINKED_STATES.includes(record.state)) {
        await this.disconnect(record, 'filtered', cause, 'connector-filtered', true);
        this.count('connectorFiltered');
      } else {
        record.state = 'filtered';
        this.count('disconnectorFiltered');
      }
      this.touchCs(record);
      return;
    }
    this.note(`${label}: connector filter passes`);
    if (record.state === 'filtered') record.state = 'disconnector';
    if (record.state === 'explicit-disconnector') {
      this.note(`${label}: explicit disconnector, join and projection do not apply`);
      this.touchCs(record);
      return;
    }
    if (record.state === 'disconnector') {
      const mv = await this.joinOrProject(record, typeRules, cause);
      this.touchCs(record);
      if (!mv) return;
      await this.importFlow(record, mv, cause, this.mvWhy.get(mv.id)?.reason ?? 'join');
      return;
    }
    const mv = record.mvObjectId ? await this.getMv(record.mvObjectId) : undefined;
    this.touchCs(record);
    if (!mv || mv.deleted) {
      // A link to an MV object that no longer exists: back to disconnector, evaluate again.
      record.state = 'disconnector';
      record.mvObjectId = null;
      return this.evaluate(record, cause, reason);
    }
    await this.importFlow(record, mv, cause, reason);
  }

  private async joinOrProject(record: CsRecord, typeRules: ObjectTypeRules, cause: MvChangeCause): Promise<MvObject | undefined> {
    const label = `${record.connector}/${record.anchor}`;
    const provisioned = await this.reader.provisionedMv(record.connector, record.dn);
    if (provisioned) {
      const mv = await this.getMv(provisioned);
      if (mv && !mv.deleted) {
        mv.provisioning = mv.provisioning.filter((p) => !(p.connector === record.connector && p.dn.toLowerCase() === record.dn.toLowerCase()));
        this.note(`${label}: the object provisioned for MV ${mv.id} came back; joined`);
        this.link(record, mv, 'normal', cause, 'provisioned-join');
        this.count('disconnectorJoined');
        return mv;
      }
    }
    for (const [gi, group] of typeRules.join.entries()) {
      const values: { attribute: string; key: string }[] = [];
      let usable = true;
      for (const m of group.match) {
        const v = this.joinValues(record, m);
        if (v === null) return undefined;
        if (v.length === 0) {
          usable = false;
          break;
        }
        if (v.length > 1) {
          this.fail(record, 'join-object-id-must-be-single-valued', `join group ${gi}: '${asList(m.cs).join(',')}' has ${v.length} values`);
          return undefined;
        }
        values.push({ attribute: m.mv, key: valueKey(v[0]!) });
      }
      if (!usable) {
        this.note(`${label}: join group ${gi}: a source value is empty, skipped`);
        continue;
      }
      let candidates: string[] | undefined;
      for (const v of values) {
        const found = await this.findMv(group.mvType, v.attribute, v.key);
        candidates = candidates ? candidates.filter((c) => found.includes(c)) : found;
      }
      const eligible: string[] = [];
      for (const id of candidates ?? []) {
        const mv = await this.getMv(id);
        if (mv && !mv.deleted && !mv.connectors.some((c) => c.connector === record.connector && c.anchor !== record.anchor)) eligible.push(id);
      }
      this.note(`${label}: join group ${gi} (${values.map((v) => `${v.attribute}=${v.key.slice(2)}`).join(' AND ')}): candidates [${eligible.join(', ')}]`);
      if (eligible.length === 1) {
        const mv = (await this.getMv(eligible[0]!))!;
        this.link(record, mv, 'normal', cause, 'join');
        this.count('disconnectorJoined');
        return mv;
      }
      if (eligible.length > 1) {
        this.fail(record, 'join-ambiguous', `join group ${gi} found ${eligible.length} metaverse objects: ${eligible.join(', ')}`);
        return undefined;
      }
    }
    if (typeRules.project) {
      const mv: MvObject = {
        id: this.options.newId(),
        objectType: typeRules.project,
        version: 0,
        deleted: false,
        contributions: {},
        connectors: [],
        provisioning: [],
      };
      this.mvOverlay.set(mv.id, mv);
      this.mvOriginal.set(mv.id, { version: 0, visible: null, index: new Set() });
      this.note(`${label}: projected to a new ${mv.objectType} ${mv.id}`);
      this.link(record, mv, 'normal', cause, 'projection');
      this.count('disconnectorProjected');
      return mv;
    }
    this.note(`${label}: no join, no projection rule: remains a disconnector`);
    this.count('disconnectorRemains');
    return undefined;
  }

  /** Transformed CS values of one join condition; null when the transform failed (error recorded). */
  private joinValues(record: CsRecord, m: JoinCondition): AttributeValue[] | null {
    try {
      return this.applyTransform(
        asList(m.cs).map((s) => csValues(record, s)),
        m.transform,
        m.args,
      );
    } catch (error) {
      if (!(error instanceof TransformError)) throw error;
      this.fail(record, 'flow-failure', `join on '${m.mv}': ${error.message}`);
      return null;
    }
  }

  private link(record: CsRecord, mv: MvObject, state: 'normal' | 'explicit', cause: MvChangeCause, reason: Reason): void {
    record.state = state;
    record.mvObjectId = mv.id;
    mv.connectors = [
      ...mv.connectors.filter((c) => !(c.connector === record.connector && c.anchor === record.anchor)),
      { connector: record.connector, anchor: record.anchor, dn: record.dn, state: state === 'explicit' ? 'explicitly-connected' : 'connected' },
    ];
    this.touchCs(record);
    this.changed(mv, reason, cause);
    this.refCascade.push({ connector: record.connector, anchor: record.anchor });
  }

  private async importFlow(record: CsRecord, mv: MvObject, cause: MvChangeCause, reason: Reason): Promise<void> {
    const typeRules = this.connectorRules(record.connector).objectTypes[record.objectType];
    const label = `${record.connector}/${record.anchor}`;
    const before = visibleState(this.ruleset, mv);
    // The object's link may carry a new DN (rename).
    mv.connectors = mv.connectors.map((c) => (c.connector === record.connector && c.anchor === record.anchor ? { ...c, dn: record.dn } : c));
    const at = this.options.now().toISOString();
    const produced = new Map<string, { flow: string; values: AttributeValue[] }>();
    for (const flow of typeRules?.importFlows ?? []) {
      const id = flow.id ?? `${record.connector}/${record.objectType}/${flow.mv}`;
      try {
        const values = await this.resolveImportRefs(record.connector, this.importValues(record, flow));
        produced.set(flow.mv, { flow: id, values });
      } catch (error) {
        if (!(error instanceof TransformError)) throw error;
        this.fail(record, 'flow-failure', `import flow ${id}: ${error.message}`);
      }
    }
    for (const attribute of new Set([...Object.keys(mv.contributions), ...produced.keys()])) {
      const existing = mv.contributions[attribute] ?? [];
      const mine = existing.find((c) => c.connector === record.connector && c.anchor === record.anchor);
      const others = existing.filter((c) => c !== mine);
      const p = produced.get(attribute);
      let next = others;
      if (p && p.values.length > 0) {
        const same = mine && mine.flow === p.flow && sameValues(mine.values, p.values);
        next = [...others, same ? mine : { connector: record.connector, anchor: record.anchor, flow: p.flow, values: p.values, rulesVersion: this.version, at }];
      }
      if (next.length > 0) mv.contributions[attribute] = next;
      else delete mv.contributions[attribute];
    }
    for (const [attribute, p] of produced) {
      const w = winner(this.ruleset, mv, attribute);
      this.note(`${label}: flow ${p.flow} → ${attribute} = ${JSON.stringify(p.values)}${w && w.connector !== record.connector ? ` (precedence: ${w.connector} wins)` : ''}`);
    }
    if (visibleState(this.ruleset, mv) !== before) {
      this.count('connectorFlow');
      this.changed(mv, reason, cause);
    } else this.count('connectorNoFlow');
  }

  private importValues(record: CsRecord, flow: ImportFlow): AttributeValue[] {
    if (flow.constant !== undefined) return [...asList(flow.constant)];
    if (flow.dnComponent !== undefined) return this.applyTransform([[record.dn]], 'dnComponent', { index: flow.dnComponent });
    return this.applyTransform(
      asList(flow.from!).map((s) => csValues(record, s)),
      flow.transform,
      flow.args,
    );
  }

  private applyTransform(inputs: readonly (readonly AttributeValue[])[], transform: string | undefined, args: Readonly<Record<string, string | number | boolean>> | undefined): AttributeValue[] {
    if (!transform) return inputs.flatMap((i) => [...i]);
    const fn = this.ruleset.transforms.get(transform);
    if (!fn) throw new TransformError(`unknown transform '${transform}'`);
    try {
      return fn(inputs, args ?? {});
    } catch (error) {
      if (error instanceof TransformError) throw error;
      throw new TransformError(`${transform}: ${(error as Error).message}`);
    }
  }

  /** CS references (`{ref: anchor}`) become MV references (`{ref: mvId}`); unresolved ones are left out. */
  private async resolveImportRefs(connector: string, values: AttributeValue[]): Promise<AttributeValue[]> {
    const out: AttributeValue[] = [];
    for (const v of values) {
      if (typeof v === 'object' && 'ref' in v) {
        const target = await this.getCs(connector, v.ref);
        if (target?.mvObjectId && LINKED_STATES.includes(target.state)) out.push({ ref: target.mvObjectId });
      } else out.push(v);
    }
    return out;
  }

  /**
   * A connector loses its MV link: recall its contributions (unless the connector keeps them),
   * then the deletion rule of the MV type, if this kind of disconnect evaluates it (§1.13).
   */
  private async disconnect(record: CsRecord, state: CsRecord['state'], cause: MvChangeCause, reason: Reason, evaluateDeletion: boolean): Promise<void> {
    const mv = record.mvObjectId ? await this.getMv(record.mvObjectId) : undefined;
    record.state = state;
    record.mvObjectId = null;
    this.touchCs(record);
    if (!mv || mv.deleted) return;
    mv.connectors = mv.connectors.filter((c) => !(c.connector === record.connector && c.anchor === record.anchor));
    if (this.connectorRules(record.connector).recall) {
      for (const [attribute, list] of Object.entries(mv.contributions)) {
        const kept = list.filter((c) => !(c.connector === record.connector && c.anchor === record.anchor));
        if (kept.length > 0) mv.contributions[attribute] = kept;
        else delete mv.contributions[attribute];
      }
    }
    this.note(`${record.connector}/${record.anchor}: disconnected from MV ${mv.id} (now ${state})`);
    this.changed(mv, reason === 'deletion-rule' ? 'recall' : reason, cause);
    if (!evaluateDeletion) return;
    const rule = this.ruleset.rules.metaverse[mv.objectType]?.deletion ?? 'last-connector';
    const remove = mv.connectors.length === 0 || (typeof rule === 'object' && rule.authoritative.includes(record.connector));
    if (remove) await this.deleteMv(mv, cause);
  }

  /** Deletes an MV object; every remaining connector is deprovisioned by its connector's action (§1.12). */
  private async deleteMv(mv: MvObject, cause: MvChangeCause): Promise<void> {
    mv.deleted = true;
    mv.provisioning = [];
    this.note(`MV ${mv.id}: deleted by the deletion rule`);
    this.count('mvDeleted');
    for (const link of mv.connectors) {
      const cs = await this.getCs(link.connector, link.anchor);
      if (!cs) continue;
      const action = this.connectorRules(cs.connector).deprovision;
      cs.state = action === 'disconnector' ? 'disconnector' : 'explicit-disconnector';
      cs.mvObjectId = null;
      this.touchCs(cs);
      this.note(`${cs.connector}/${cs.anchor}: deprovisioned (${action})`);
      if (action === 'delete') {
        this.exports.push(this.command(cs.connector, cs.partition, cs.anchor, cs.dn, cs.objectType, 'delete', {}, [], mv));
        this.count('exportDelete');
      }
    }
    mv.connectors = [];
    this.changed(mv, 'deletion-rule', cause);
    this.mvWhy.set(mv.id, { reason: 'deletion-rule', cause });
  }

  private async runCascade(): Promise<void> {
    const max = this.options.maxCascade ?? 1000;
    const seen = new Set<string>();
    let steps = 0;
    while ((this.cascade.length > 0 || this.refCascade.length > 0) && steps < max) {
      const target = this.refCascade.shift();
      if (target) {
        for (const r of await this.reader.referrers(target.connector, target.anchor)) {
          const k = csKey(r.connector, r.anchor);
          if (seen.has(`ref:${k}`)) continue;
          seen.add(`ref:${k}`);
          const record = await this.getCs(r.connector, r.anchor);
          if (!record || !LINKED_STATES.includes(record.state)) continue;
          steps++;
          this.note(`${r.connector}/${r.anchor}: references re-resolved (${target.connector}/${target.anchor} joined the metaverse)`);
          await this.evaluate(record, { connector: record.connector, anchor: record.anchor, csVersion: record.csVersion }, 'import-flow');
        }
        continue;
      }
      const { attribute, key } = this.cascade.shift()!;
      if (seen.has(`${attribute}=${key}`)) continue;
      seen.add(`${attribute}=${key}`);
      for (const d of await this.reader.disconnectorsWithKey(attribute, key)) {
        const k = csKey(d.connector, d.anchor);
        if (this.evaluated.has(k)) continue;
        const record = await this.getCs(d.connector, d.anchor);
        if (!record || record.state !== 'disconnector' || !this.ruleset.rules.connectors[record.connector]) continue;
        steps++;
        this.note(`${d.connector}/${d.anchor}: disconnector re-evaluated (a metaverse object gained ${attribute}=${key.slice(2)})`);
        await this.evaluate(record, { connector: record.connector, anchor: record.anchor, csVersion: record.csVersion }, 'join');
      }
    }
  }

  // ---------------------------------------------------------------- outbound

  private async provision(mv: MvObject): Promise<void> {
    const { attributes } = resolveAttributes(this.ruleset, mv);
    for (const rule of this.ruleset.rules.provisioning) {
      if (rule.mvType !== mv.objectType) continue;
      const applies = rule.when.every((w) => ('connectedTo' in w ? mv.connectors.some((c) => c.connector === w.connectedTo) : holds(w, attributes[w.attribute] ?? [])));
      if (!applies) continue;
      if (mv.connectors.some((c) => c.connector === rule.connector) || mv.provisioning.some((p) => p.connector === rule.connector)) continue;
      const source = mv.connectors[0];
      try {
        const dn = template(rule.dn, attributes, 'dn');
        const initial: Record<string, AttributeValue[]> = {};
        for (const [name, value] of Object.entries(rule.attributes)) {
          const values = asList(value).map((v) => (typeof v === 'string' ? template(v, attributes, `attributes.${name}`) : v));
          initial[name] = values;
        }
        const flows = await this.exportValues(mv, rule.connector, rule.objectType, null);
        for (const f of flows) if (f.values.length > 0 && !(f.cs in initial)) initial[f.cs] = f.values;
        const command = this.command(rule.connector, rule.partition, null, dn, rule.objectType, 'add', initial, [], mv);
        mv.provisioning = [...mv.provisioning, { connector: rule.connector, dn, exportId: command.exportId, rule: rule.name }];
        this.exports.push(command);
        this.changed(mv, this.mvWhy.get(mv.id)?.reason ?? 'import-flow', this.mvWhy.get(mv.id)!.cause);
        this.count('provisionedAdd');
        this.note(`MV ${mv.id}: provisioning '${rule.name}' adds ${rule.objectType} '${dn}' to ${rule.connector}`);
      } catch (error) {
        if (!(error instanceof TransformError)) throw error;
        if (source) this.errors.push({ connector: source.connector, anchor: source.anchor, dn: source.dn, type: 'provisioning-failure', message: `provisioning '${rule.name}': ${error.message}` });
        if (source) this.failed.add(csKey(source.connector, source.anchor));
        this.note(`MV ${mv.id}: provisioning '${rule.name}' failed: ${error.message}`);
      }
    }
  }

  /** Export attribute flow into every connector of the MV object; only differences become commands. */
  private async exportFlow(mv: MvObject): Promise<void> {
    for (const link of mv.connectors) {
      const cs = await this.getCs(link.connector, link.anchor);
      if (!cs) continue;
      let flows: { cs: string; values: AttributeValue[]; allowNull: boolean }[];
      try {
        flows = await this.exportValues(mv, cs.connector, cs.objectType, cs);
      } catch (error) {
        if (!(error instanceof TransformError)) throw error;
        this.fail(cs, 'flow-failure', `export flow: ${error.message}`);
        continue;
      }
      const changes: AttributeDelta[] = [];
      for (const f of flows) {
        if (f.values.length === 0 && !f.allowNull) continue;
        const current = cs.pendingExport[f.cs] ?? cs.attributes[f.cs] ?? [];
        if (sameValues(current, f.values)) continue;
        changes.push({ name: f.cs, op: 'replace', values: f.values });
        cs.pendingExport = { ...cs.pendingExport, [f.cs]: f.values };
      }
      if (changes.length === 0) continue;
      this.touchCs(cs);
      this.exports.push(this.command(cs.connector, cs.partition, cs.anchor, cs.dn, cs.objectType, 'update', {}, changes, mv));
      this.count('exportUpdate');
      this.note(`${cs.connector}/${cs.anchor}: export ${changes.map((c) => `${c.name}=${JSON.stringify(c.values)}`).join(', ')}`);
    }
  }

  /** Values of a connector type's export flows from an MV object (refs mapped to that connector's anchors). */
  private async exportValues(mv: MvObject, connector: string, objectType: string, target: CsRecord | null): Promise<{ cs: string; values: AttributeValue[]; allowNull: boolean }[]> {
    const flows: ExportFlow[] = this.connectorRules(connector).objectTypes[objectType]?.exportFlows ?? [];
    const { attributes } = resolveAttributes(this.ruleset, mv);
    const out: { cs: string; values: AttributeValue[]; allowNull: boolean }[] = [];
    for (const f of flows) {
      if (f.constant !== undefined) {
        out.push({ cs: f.cs, values: [...asList(f.constant)], allowNull: f.allowNull });
        continue;
      }
      const sources = asList(f.from!);
      // Loop prevention: a value does not flow back to the connector it came from.
      if (target && !f.loopback && sources.some((s) => winner(this.ruleset, mv, s)?.connector === connector)) continue;
      const values = this.applyTransform(
        sources.map((s) => attributes[s] ?? []),
        f.transform,
        f.args,
      );
      const mapped: AttributeValue[] = [];
      for (const v of values) {
        if (typeof v === 'object' && 'ref' in v) {
          const ref = await this.getMv(v.ref);
          const anchor = ref?.connectors.find((c) => c.connector === connector)?.anchor;
          if (anchor) mapped.push({ ref: anchor });
        } else mapped.push(v);
      }
      out.push({ cs: f.cs, values: mapped, allowNull: f.allowNull });
    }
    return out;
  }

  private command(
    connector: string,
    partition: string,
    anchor: string | null,
    dn: string,
    objectType: string,
    op: ExportCommandV1['op'],
    attributes: Attributes,
    changes: AttributeDelta[],
    mv: MvObject,
  ): ExportCommandV1 {
    return {
      exportId: this.options.newId(),
      connector,
      partition,
      anchor,
      dn,
      objectType,
      op,
      attributes,
      changes,
      newDn: null,
      mvObjectId: mv.id,
      // Settled in outcome(), once the session knows whether the MV object gets a new version.
      mvVersion: Math.max(1, mv.version),
    };
  }

  // ---------------------------------------------------------------- state access

  private connectorRules(connector: string) {
    const rules = this.ruleset.rules.connectors[connector];
    if (!rules) throw new UnknownConnectorError(connector, Object.keys(this.ruleset.rules.connectors));
    return rules;
  }

  private async getCs(connector: string, anchor: string): Promise<CsRecord | undefined> {
    const key = csKey(connector, anchor);
    if (this.csOverlay.has(key)) return this.csOverlay.get(key) ?? undefined;
    const loaded = await this.reader.getCs(connector, anchor);
    if (!loaded) return undefined;
    const copy = cloneCs(loaded);
    this.csOverlay.set(key, copy);
    return copy;
  }

  private touchCs(record: CsRecord): void {
    this.csOverlay.set(csKey(record.connector, record.anchor), record);
    this.dirtyCs.add(csKey(record.connector, record.anchor));
  }
  private readonly dirtyCs = new Set<string>();

  private async getMv(id: string): Promise<MvObject | undefined> {
    const cached = this.mvOverlay.get(id);
    if (cached) return cached;
    const loaded = await this.reader.getMv(id);
    if (!loaded) return undefined;
    const copy = cloneMv(loaded);
    this.mvOverlay.set(id, copy);
    this.mvOriginal.set(id, {
      version: copy.version,
      visible: visibleState(this.ruleset, copy),
      index: new Set(indexEntries(this.ruleset, copy).map((e) => `${e.attribute}\u0000${e.key}`)),
    });
    return copy;
  }

  private async findMv(mvType: string | undefined, attribute: string, key: string): Promise<string[]> {
    const ids = new Set(await this.reader.findMv(mvType, attribute, key));
    for (const mv of this.mvOverlay.values()) {
      const match = !mv.deleted && (!mvType || mv.objectType === mvType) && indexEntries(this.ruleset, mv).some((e) => e.attribute === attribute && e.key === key);
      if (match) ids.add(mv.id);
      else ids.delete(mv.id);
    }
    return [...ids].sort();
  }

  private changed(mv: MvObject, reason: Reason, cause: MvChangeCause): void {
    if (!this.mvWhy.has(mv.id)) this.mvWhy.set(mv.id, { reason, cause });
    const original = this.mvOriginal.get(mv.id)!;
    for (const e of indexEntries(this.ruleset, mv)) {
      if (!original.index.has(`${e.attribute}\u0000${e.key}`)) this.cascade.push(e);
    }
  }

  private fail(record: Pick<CsRecord, 'connector' | 'anchor' | 'dn'>, type: string, message: string): void {
    this.errors.push({ connector: record.connector, anchor: record.anchor, dn: record.dn, type, message });
    this.failed.add(csKey(record.connector, record.anchor));
    this.count('flowFailure');
    this.note(`${record.connector}/${record.anchor}: ${type}: ${message}`);
  }

  private count(counter: string): void {
    this.counters[counter] = (this.counters[counter] ?? 0) + 1;
  }

  private note(line: string): void {
    this.trace.push(line);
  }

  private outcome(): SyncOutcome {
    const upserts: CsRecord[] = [];
    const deletes: { connector: string; anchor: string }[] = [];
    for (const [key, record] of this.csOverlay) {
      if (record === null) {
        const [connector, anchor] = key.split('\u0000') as [string, string];
        deletes.push({ connector, anchor });
      } else if (this.dirtyCs.has(key)) upserts.push(record);
    }
    const mv: MvChange[] = [];
    const at = this.options.now().toISOString();
    for (const [id, why] of this.mvWhy) {
      const state = this.mvOverlay.get(id)!;
      const original = this.mvOriginal.get(id)!;
      if (original.version === 0 && state.deleted) continue; // projected and removed in one pass: never existed
      const visible = visibleState(this.ruleset, state);
      let event: MvObjectChangedV2 | null = null;
      if (visible !== original.visible) {
        state.version = original.version + 1;
        const { attributes, lineage } = resolveAttributes(this.ruleset, state);
        event = {
          mvObjectId: id,
          objectType: state.objectType,
          version: state.version,
          change: original.version === 0 ? 'projected' : state.deleted ? 'deleted' : 'updated',
          attributes,
          connectors: state.connectors,
          lineage: lineage.map((l) => ({ ...l, at: l.at || at })),
          rulesVersion: this.version,
          cause: why.cause,
          reason: why.reason,
        };
      }
      mv.push({ mv: state, expectedVersion: original.version, event });
    }
    const succeeded = [...this.evaluated.entries()].filter(([k]) => !this.failed.has(k)).map(([, v]) => v);
    // Each export names the MV version it comes from: the one this session's event carries (or the current one).
    const exports = this.exports.map((e) => {
      const state = e.mvObjectId ? this.mvOverlay.get(e.mvObjectId) : undefined;
      return state && state.version > 0 ? { ...e, mvVersion: state.version } : e;
    });
    return { cs: { upserts, deletes }, mv, exports, errors: this.errors, succeeded, counters: this.counters, trace: this.trace };
  }
}

/** Values exported earlier that an import now shows are confirmed; the rest stay pending. */
function confirmExports(pending: Record<string, AttributeValue[]>, image: Attributes): Record<string, AttributeValue[]> {
  const out: Record<string, AttributeValue[]> = {};
  for (const [name, values] of Object.entries(pending)) if (!sameValues(values, image[name])) out[name] = values;
  return out;
}

/** `{attr}` → first value of the MV attribute as text; a missing one is a TransformError naming it. */
export function template(text: string, attributes: Attributes, where: string): string {
  return text.replace(/\{([^{}]+)\}/g, (_, name: string) => {
    const v = attributes[name]?.[0];
    if (v === undefined) throw new TransformError(`${where} template needs metaverse attribute '${name}', which is empty`);
    if (typeof v === 'object') throw new TransformError(`${where} template: '${name}' is not text`);
    return String(v);
  });
}

/** The join keys of a CS object under the rules: what the join index of disconnectors holds. */
export function joinKeysOf(ruleset: RuleSet, cs: Pick<CsRecord, 'connector' | 'objectType' | 'dn' | 'partition' | 'anchor' | 'attributes'>): { attribute: string; key: string }[] {
  const typeRules = ruleset.rules.connectors[cs.connector]?.objectTypes[cs.objectType];
  const out: { attribute: string; key: string }[] = [];
  for (const group of typeRules?.join ?? []) {
    for (const m of group.match) {
      try {
        const inputs = asList(m.cs).map((s) => csValues(cs, s));
        const fn = m.transform ? ruleset.transforms.get(m.transform) : undefined;
        const values = fn ? fn(inputs, m.args ?? {}) : inputs.flat();
        for (const v of values) out.push({ attribute: m.mv, key: valueKey(v) });
      } catch {
        // An untransformable value has no key; the object's own evaluation reports the error.
      }
    }
  }
  // References to other CS objects of the same connector: the object is re-evaluated when they join.
  for (const values of Object.values(cs.attributes)) {
    for (const v of values) if (typeof v === 'object' && 'ref' in v) out.push({ attribute: REF_KEY, key: valueKey(v) });
  }
  return out;
}

/** The pseudo join-key attribute under which a CS object's references are indexed. */
export const REF_KEY = '$ref';

/** Provisioning rules that target a connector (for documentation and preview). */
export function provisioningInto(ruleset: RuleSet, connector: string): ProvisioningRule[] {
  return ruleset.rules.provisioning.filter((p) => p.connector === connector);
}

/**
 * The join-index keys one CS object can touch: its join keys and the indexed MV values its import
 * flows produce. The engine takes a transaction-scoped lock on each (sorted) before it reads, so
 * two replicas handling the same person from two connectors serialize (never two MV objects).
 */
export function lockKeysOf(ruleset: RuleSet, cs: Pick<CsRecord, 'connector' | 'objectType' | 'dn' | 'partition' | 'anchor' | 'attributes'>): string[] {
  const keys = new Set(joinKeysOf(ruleset, cs).map((k) => `${k.attribute}=${k.key}`));
  const indexed = new Set(Object.values(ruleset.rules.metaverse).flatMap((t) => Object.entries(t.attributes).filter(([, a]) => a.indexed).map(([n]) => n)));
  for (const flow of ruleset.rules.connectors[cs.connector]?.objectTypes[cs.objectType]?.importFlows ?? []) {
    if (!indexed.has(flow.mv) || flow.from === undefined) continue;
    try {
      const inputs = asList(flow.from).map((s) => csValues(cs, s));
      const fn = flow.transform ? ruleset.transforms.get(flow.transform) : undefined;
      for (const v of fn ? fn(inputs, flow.args ?? {}) : inputs.flat()) keys.add(`${flow.mv}=${valueKey(v)}`);
    } catch {
      // no key for an untransformable value
    }
  }
  return [...keys].sort();
}

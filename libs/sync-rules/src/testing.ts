import type { AttributeValue, Attributes, CsObjectChangedV1 } from '@metaweave/contracts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRules, type RuleSet } from './load';
import { MemoryMetaverse } from './memory';
import { SyncSession, type SyncOutcome } from './session';
import { sidFromString } from './transforms';

/** Given/when/then support for the specs: a world of rules + an in-memory write model. */
export const DEFAULT_RULES_FILE = join(__dirname, '..', '..', '..', 'config', 'rules', 'default.yaml');

export function defaultRules(): RuleSet {
  return loadRules(readFileSync(DEFAULT_RULES_FILE, 'utf8'), DEFAULT_RULES_FILE);
}

export class World {
  readonly store: MemoryMetaverse;
  private ids = 0;
  private clock = Date.parse('2026-01-01T00:00:00Z');
  private readonly versions = new Map<string, number>();

  constructor(public rules: RuleSet) {
    this.store = new MemoryMetaverse(() => this.rules);
  }

  private session(): SyncSession {
    return new SyncSession(this.rules, this.store, {
      now: () => new Date((this.clock += 1000)),
      newId: () => `00000000-0000-4000-8000-${String(++this.ids).padStart(12, '0')}`,
    });
  }

  /** One CS change, in its own session (as the engine processes one event per transaction). */
  async when(change: Partial<CsObjectChangedV1> & Pick<CsObjectChangedV1, 'connector' | 'anchor'>): Promise<SyncOutcome> {
    const key = `${change.connector}/${change.anchor}`;
    const csVersion = change.csVersion ?? (this.versions.get(key) ?? 0) + 1;
    this.versions.set(key, csVersion);
    const full: CsObjectChangedV1 = {
      partition: 'P',
      objectType: 'mailbox',
      dn: `cn=${change.anchor}`,
      previousDn: null,
      change: 'add',
      attributes: {},
      delta: [],
      ...change,
      csVersion,
    };
    return this.run((s) => s.applyChange(full));
  }

  async run(act: (s: SyncSession) => Promise<void>): Promise<SyncOutcome> {
    const s = this.session();
    await act(s);
    const outcome = await s.finish();
    this.store.commit(outcome);
    return outcome;
  }

  cs(connector: string, anchor: string) {
    return this.store.cs.get(`${connector}\u0000${anchor}`);
  }

  live(type?: string) {
    return [...this.store.mv.values()].filter((m) => !m.deleted && (!type || m.objectType === type));
  }
}

export const DOMAIN_SID = 'S-1-5-21-1144201745-2289526357-3433806489';
export const sid = (rid: number): string => `${DOMAIN_SID}-${rid}`;
export const sidB64 = (rid: number): { b64: string } => ({ b64: Buffer.from(sidFromString(sid(rid))).toString('base64') });

export function mailbox(alias: string, rid: number | null, extra: Record<string, AttributeValue[]> = {}): Partial<CsObjectChangedV1> & Pick<CsObjectChangedV1, 'connector' | 'anchor'> {
  const attributes: Record<string, AttributeValue[]> = { uid: [alias], cn: [`Display ${alias}`], mail: [`${alias}@contoso.com`], ...extra };
  if (rid !== null) attributes['Assoc-NT-Account'] = [sidB64(rid)];
  return { connector: 'exchange', anchor: `mbx-${alias}`, partition: 'SiteA', objectType: 'mailbox', dn: `cn=${alias},cn=Recipients,ou=SiteA,o=Contoso`, attributes: attributes as Attributes };
}

export function ntUser(name: string, rid: number, extra: Record<string, AttributeValue[]> = {}): Partial<CsObjectChangedV1> & Pick<CsObjectChangedV1, 'connector' | 'anchor'> {
  return {
    connector: 'nt4-contoso',
    anchor: sid(rid),
    partition: 'CONTOSO',
    objectType: 'user',
    dn: `CONTOSO\\${name}`,
    attributes: { objectSid: [sidB64(rid)], accountName: [name], fullName: [`Full ${name}`], userAccountControl: [513], ...extra },
  };
}

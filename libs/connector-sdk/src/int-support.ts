/**
 * Test-only (excluded from the build like every `int-support.ts`; uses the jest globals): the
 * contract suite every connector passes against its live stand-in. Import it by path from a
 * connector's `*.int.spec.ts`: `libs/connector-sdk/src/int-support`.
 */
import { diffObject, fullImportDeletes, type CsChange, type CsImage, type StoredCsObject } from './cs-diff';
import type { Connector, ObjectError } from './spi';

/** How the contract suite changes the live directory behind the connector, by object name. */
export interface ContractDirectory {
  /** Creates an object called `name` in the partition under test. */
  add(name: string): Promise<void>;
  /** Sets a single-valued text attribute of `name` to `value`; returns the attribute's name as the connector stages it. */
  modify(name: string, value: string): Promise<string>;
  /** Renames `name` to `newName` (connectors whose objects cannot be renamed leave this out). */
  rename?(name: string, newName: string): Promise<void>;
  remove(name: string): Promise<void>;
}

export interface ConnectorContractOptions {
  /** Shown in the test names, e.g. `exchange (accesslog, slapd stand-in)`. */
  readonly title: string;
  /** The connector under test; its partition `partition` must hold only what the suite adds. */
  connector(): Connector | Promise<Connector>;
  readonly partition: string;
  readonly directory: ContractDirectory;
  /** Whether `image` is the object the suite called `name` (by DN, account name…). */
  identifies(image: Pick<CsImage, 'dn' | 'attributes'>, name: string): boolean;
  /** The same connector and partition with its system unreachable (a closed port…). */
  unreachable?(): Connector | Promise<Connector>;
  /** Called once before the suite (create the partition, start a private directory…). */
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
}

/** A connector space in memory, kept with the same pure rules the run driver applies. */
class MemoryConnectorSpace {
  readonly objects = new Map<string, StoredCsObject>();
  watermark: string | null = null;

  apply(changes: readonly CsChange[]): CsChange[] {
    for (const c of changes) this.objects.set(c.image.anchor, { ...c.image, version: c.version, deleted: c.change === 'delete' });
    return [...changes];
  }
  live(partition: string): StoredCsObject[] {
    return [...this.objects.values()].filter((o) => !o.deleted && o.partition === partition);
  }
}

function skip(title: string, why: string): void {
  process.stderr.write(`connector contract ${title}: skipped, ${why}\n`);
}

/**
 * The contract every connector passes against its live stand-in: what it reads through the SPI
 * (connector-sdk) is what the run driver needs for the MIIS run-step semantics (invariants 1–4 of
 * design.md): each object once, a stable anchor, changes a delta can see, a failed read that
 * throws instead of returning less. Call it at the top level of a `*.int.spec.ts`. The suite keeps
 * a connector space in memory with connector-sdk's own diffing, so a passing connector gives the
 * driver exactly the changes asserted here. Capabilities a connector lacks (delta import, rename,
 * schema) are skipped, saying so on stderr.
 */
export function connectorContract(o: ConnectorContractOptions): void {
  describe(`connector contract: ${o.title}`, () => {
    let connector: Connector;
    const cs = new MemoryConnectorSpace();
    const anchors = new Map<string, string>();

    beforeAll(async () => {
      await o.setup?.();
      connector = await o.connector();
      for (const n of ['alpha', 'bravo', 'charlie']) await o.directory.add(n);
    });

    afterAll(async () => {
      await connector?.dispose();
      await o.teardown?.();
    });

    async function fullImport(on: Connector = connector): Promise<{ changes: CsChange[]; images: CsImage[]; errors: ObjectError[] }> {
      const images: CsImage[] = [];
      const errors: ObjectError[] = [];
      const { watermark } = await on.capabilities.fullImport!.fullImport(
        o.partition,
        { page: async (page) => void images.push(...page), objectError: (e) => void errors.push(e) },
        new AbortController().signal,
      );
      const changes: CsChange[] = [];
      for (const image of images) {
        const change = diffObject(cs.objects.get(image.anchor), image);
        if (change) changes.push(change);
      }
      const { deletes } = fullImportDeletes(cs.live(o.partition), new Set(images.map((i) => i.anchor)), errors.length === 0);
      cs.watermark = watermark;
      return { changes: cs.apply([...changes, ...deletes]), images, errors };
    }

    async function deltaImport(): Promise<CsChange[]> {
      const delta = connector.capabilities.deltaImport!;
      const result = await delta.deltaImport(o.partition, cs.watermark!, new AbortController().signal);
      if (result.outcome !== 'changes') throw new Error(`delta import refused a watermark its own full import took: ${result.reason}`);
      expect(result.errors ?? []).toEqual([]);
      const changes: CsChange[] = [];
      for (const c of result.changes) {
        if (c.kind === 'upsert') {
          const change = diffObject(cs.objects.get(c.image.anchor), c.image);
          if (change) changes.push(change);
        } else {
          const stored = [...cs.objects.values()].find((x) => !x.deleted && (c.anchor ? x.anchor === c.anchor : x.dn.toLowerCase() === c.dn?.toLowerCase()));
          if (stored) changes.push({ change: 'delete', image: { ...stored, attributes: {} }, previousDn: null, delta: [], version: stored.version + 1 });
        }
      }
      cs.watermark = result.watermark;
      return cs.apply(changes);
    }

    /** The changes a delta import finds (a full import for connectors without delta). */
    const changesSince = async () => (connector.capabilities.deltaImport ? deltaImport() : (await fullImport()).changes);
    const named = (changes: readonly CsChange[], name: string) => changes.filter((c) => o.identifies(c.image, name));

    it('reaches its system and serves the partition', async () => {
      const t = await connector.test();
      expect(t).toMatchObject({ reachable: true, canRead: true });
      expect(typeof t.detail).toBe('string');
      expect(connector.partitions()).toContain(o.partition);
    });

    it('full import: every object once, with a unique anchor, its partition, a DN and an object type', async () => {
      expect(connector.capabilities.fullImport).toBeDefined();
      const { changes, images, errors } = await fullImport();
      expect(errors).toEqual([]);
      expect(images).toHaveLength(3);
      expect(changes.map((c) => c.change)).toEqual(['add', 'add', 'add']);
      for (const n of ['alpha', 'bravo', 'charlie']) {
        const [c] = named(changes, n);
        expect(c).toBeDefined();
        expect(c!.image.partition).toBe(o.partition);
        expect(c!.image.anchor).toMatch(/\S/);
        expect(c!.image.objectType).toMatch(/\S/);
        anchors.set(n, c!.image.anchor);
      }
      expect(new Set(anchors.values()).size).toBe(3);
      if (connector.capabilities.deltaImport) expect(cs.watermark).not.toBeNull();
    });

    it('an unchanged directory: a second full import finds nothing to stage', async () => {
      const { changes, images } = await fullImport();
      expect(images).toHaveLength(3);
      expect(changes).toEqual([]);
    });

    it('a modified attribute: exactly one update, with the attribute-level delta', async () => {
      const attribute = await o.directory.modify('alpha', 'Contract Value 1');
      const changes = await changesSince();
      expect(changes).toHaveLength(1);
      expect(changes[0]).toMatchObject({ change: 'update', image: { anchor: anchors.get('alpha') } });
      expect(changes[0]!.delta.map((d) => d.name.toLowerCase())).toContain(attribute.toLowerCase());
    });

    it('a rename: one rename; the anchor survives', async () => {
      if (!o.directory.rename) return skip(o.title, 'objects cannot be renamed');
      await o.directory.rename('bravo', 'bravo2');
      const changes = await changesSince();
      expect(changes).toHaveLength(1);
      expect(changes[0]).toMatchObject({ change: 'rename', image: { anchor: anchors.get('bravo') } });
      expect(o.identifies(changes[0]!.image, 'bravo2')).toBe(true);
    });

    it('a delete: one delete for the same anchor', async () => {
      await o.directory.remove('charlie');
      const changes = await changesSince();
      expect(changes.map((c) => [c.change, c.image.anchor])).toEqual([['delete', anchors.get('charlie')]]);
    });

    it('delta import: nothing changed, nothing found; the watermark stays usable', async () => {
      if (!connector.capabilities.deltaImport) return skip(o.title, 'no delta import capability');
      expect(await deltaImport()).toEqual([]);
      expect(await deltaImport()).toEqual([]);
    });

    it('an unreachable system: the read throws an actionable error instead of returning less', async () => {
      if (!o.unreachable) return skip(o.title, 'no unreachable variant given');
      const broken = await o.unreachable();
      const pages: CsImage[][] = [];
      await expect(
        broken.capabilities.fullImport!.fullImport(o.partition, { page: async (p) => void pages.push([...p]), objectError: () => undefined }, new AbortController().signal),
      ).rejects.toThrow(/unreachable|refused|connect/i);
      expect(pages.flat()).toEqual([]);
      expect(await broken.test()).toMatchObject({ reachable: false });
      await broken.dispose();
    });

    it('schema discovery: declares every attribute it stages', async () => {
      const schemaCapability = connector.capabilities.schema;
      if (!schemaCapability) return skip(o.title, 'no schema capability');
      const discovered = await schemaCapability.discover();
      expect(discovered.objectTypes.length).toBeGreaterThan(0);
      const declared = new Set(discovered.attributes.flatMap((a) => [a.name, ...a.aliases]).map((n) => n.toLowerCase()));
      const staged = [...new Set(cs.live(o.partition).flatMap((x) => Object.keys(x.attributes)))];
      expect(staged.length).toBeGreaterThan(0);
      // an option such as ;binary is not part of the attribute's name
      expect(staged.filter((n) => !declared.has(n.split(';')[0]!.toLowerCase()))).toEqual([]);
    });
  });
}

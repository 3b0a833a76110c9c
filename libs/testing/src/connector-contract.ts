import { connectorSpaceSql, RunDriver, type RunRecord, type RunStep } from '@metaweave/connector-runtime';
import type { Connector, CsImage } from '@metaweave/connector-sdk';
import { decodeMessage, type CsObjectChangedV1, type Message } from '@metaweave/contracts';
import { outboxTableSql, quoteIdent, type Logger } from '@metaweave/messaging';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { stackEnv, uniqueSuffix } from './stack';

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

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The contract every connector passes against its live stand-in: the MIIS run-step semantics the
 * run driver promises downstream (invariants 1–4 of design.md) hold for what this connector reads.
 * Call it at the top level of a `*.int.spec.ts`; it runs the connector through the real run driver
 * into a throw-away connector-space schema in the local stack's PostgreSQL and reads the CS change
 * events from that schema's outbox. Capabilities a connector lacks (delta import, rename, schema)
 * are skipped with the reason.
 */
export function connectorContract(o: ConnectorContractOptions): void {
  describe(`connector contract: ${o.title}`, () => {
    const schema = `contract_${uniqueSuffix()}`;
    const url = stackEnv()['MW_PG_ADMIN_URL']!;
    const pool = new Pool({ connectionString: url, max: 2 });
    let db: DataSource;
    let connector: Connector;
    let driver: RunDriver;
    const anchors = new Map<string, string>();

    beforeAll(async () => {
      await o.setup?.();
      await pool.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
      for (const sql of connectorSpaceSql(schema)) await pool.query(sql);
      await pool.query(outboxTableSql(schema));
      db = new DataSource({ type: 'postgres', url, schema, synchronize: false, logging: false, extra: { max: 3 } });
      await db.initialize();
      connector = await o.connector();
      driver = new RunDriver({ db, schema, connector, topic: `contract.mw.cs.changes`, source: 'connector-contract', logger: silent });
      for (const n of ['alpha', 'bravo', 'charlie']) await o.directory.add(n);
    });

    afterAll(async () => {
      await connector?.dispose();
      await db?.destroy();
      await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      await pool.end();
      await o.teardown?.();
    });

    let seen = 0;
    /** The CS change events of the last run (the outbox keeps them: nothing relays it here). */
    async function run(step: RunStep, on: RunDriver = driver): Promise<{ record: RunRecord; events: CsObjectChangedV1[] }> {
      const record = await (await on.start(step, o.partition)).done;
      const { rows } = await pool.query(`SELECT id, value FROM ${quoteIdent(schema)}.outbox WHERE id > $1 ORDER BY id`, [seen]);
      if (rows.length > 0) seen = Number(rows[rows.length - 1].id);
      const events = rows.map((r) => decodeMessage(r.value)).filter((m): m is Message<'cs.object.changed'> => m.type === 'cs.object.changed');
      return { record, events: events.map((m) => m.data) };
    }
    const named = (events: readonly CsObjectChangedV1[], name: string) => events.filter((e) => o.identifies(e, name));
    const deltaOrFull = (): RunStep => (connector.capabilities.deltaImport ? 'delta-import' : 'full-import');

    it('reaches its system and serves the partition', async () => {
      const t = await connector.test();
      expect(t).toMatchObject({ reachable: true, canRead: true });
      expect(typeof t.detail).toBe('string');
      expect(connector.partitions()).toContain(o.partition);
    });

    it('full import: stages every object once, with a unique anchor, a DN and an object type', async () => {
      expect(connector.capabilities.fullImport).toBeDefined();
      const { record, events } = await run('full-import');
      expect(record).toMatchObject({ step: 'full-import', status: 'completed', deletesWithheld: 0 });
      expect(events.map((e) => e.change)).toEqual(['add', 'add', 'add']);
      expect(record.counters.stageAdd).toBe(3);
      for (const n of ['alpha', 'bravo', 'charlie']) {
        const [e] = named(events, n);
        expect(e).toBeDefined();
        expect(e!).toMatchObject({ partition: o.partition, csVersion: 1 });
        expect(e!.anchor).toMatch(/\S/);
        expect(e!.objectType).toMatch(/\S/);
        anchors.set(n, e!.anchor);
      }
      expect(new Set(anchors.values()).size).toBe(3);
    });

    it('an unchanged directory: a full import emits nothing', async () => {
      const { record, events } = await run('full-import');
      expect(events).toEqual([]);
      expect(record.counters).toMatchObject({ stageAdd: 0, stageUpdate: 0, stageRename: 0, stageDelete: 0, stageNoChange: 3 });
    });

    it('a modified attribute: exactly one update, with the attribute-level delta', async () => {
      const attribute = await o.directory.modify('alpha', 'Contract Value 1');
      const { record, events } = await run(deltaOrFull());
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ change: 'update', anchor: anchors.get('alpha') });
      expect(events[0]!.delta.map((d) => d.name.toLowerCase())).toContain(attribute.toLowerCase());
      expect(record.counters.stageUpdate).toBe(1);
    });

    it('a rename: one rename event; the anchor survives', async () => {
      if (!o.directory.rename) return void console.warn(`${o.title}: objects cannot be renamed; rename contract skipped`);
      await o.directory.rename('bravo', 'bravo2');
      const { record, events } = await run(deltaOrFull());
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ change: 'rename', anchor: anchors.get('bravo') });
      expect(o.identifies(events[0]!, 'bravo2')).toBe(true);
      expect(record.counters.stageRename).toBe(1);
    });

    it('a delete: one delete event for the same anchor', async () => {
      await o.directory.remove('charlie');
      const { record, events } = await run(deltaOrFull());
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ change: 'delete', anchor: anchors.get('charlie') });
      expect(record.counters.stageDelete).toBe(1);
    });

    it('delta import: nothing changed, nothing emitted', async () => {
      if (!connector.capabilities.deltaImport) return void console.warn(`${o.title}: no delta import capability; skipped`);
      const { record, events } = await run('delta-import');
      expect(record.step).toBe('delta-import');
      expect(events).toEqual([]);
    });

    it('an unreachable system: the run fails, says where, and withholds every delete', async () => {
      if (!o.unreachable) return void console.warn(`${o.title}: no unreachable variant given; skipped`);
      const broken = new RunDriver({ db, schema, connector: await o.unreachable(), topic: `contract.mw.cs.changes`, source: 'connector-contract', logger: silent });
      const { record, events } = await run('full-import', broken);
      expect(record.status).toBe('failed');
      expect(record.message).toMatch(/unreachable|ECONNREFUSED|connect/i);
      expect(events).toEqual([]);
      expect(record.deletesWithheld).toBe(2);
    });

    it('schema discovery: declares every attribute it stages', async () => {
      const schemaCapability = connector.capabilities.schema;
      if (!schemaCapability) return void console.warn(`${o.title}: no schema capability; skipped`);
      const discovered = await schemaCapability.discover();
      expect(discovered.objectTypes.length).toBeGreaterThan(0);
      const declared = new Set(discovered.attributes.flatMap((a) => [a.name, ...a.aliases]).map((n) => n.toLowerCase()));
      const { rows } = await pool.query(`SELECT DISTINCT jsonb_object_keys(attributes) AS name FROM ${quoteIdent(schema)}.cs_object`);
      const staged = rows.map((r) => String(r.name));
      expect(staged.length).toBeGreaterThan(0);
      // an option such as ;binary is not part of the attribute's name
      expect(staged.filter((n) => !declared.has(n.split(';')[0]!.toLowerCase()))).toEqual([]);
    });
  });
}

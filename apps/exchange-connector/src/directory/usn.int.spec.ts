import { RunDriver, type RunRecord } from '@metaweave/connector-runtime';
import { decodeMessage, type Message } from '@metaweave/contracts';
import { quoteIdent, type Logger } from '@metaweave/messaging';
import { UsnDirectory, stackEnv, uniqueSuffix } from '@metaweave/testing';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { ExchangeDirectory } from './exchange-directory';
import { openConnectorSpace } from '../../../../libs/connector-runtime/src/int-support';

jest.setTimeout(120_000);

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const mailbox = (alias: string, extra: Record<string, string> = {}) => ({
  objectClass: ['top', 'person', 'organizationalPerson', 'ex55Mailbox'],
  cn: `Display ${alias}`,
  rdn: alias,
  uid: alias,
  sn: alias,
  mail: `${alias}@contoso.com`,
  ...extra,
});

/**
 * The `usn` delta strategy (a real Exchange 5.5 server) against a directory that keeps USN-Changed,
 * USN-Created and Is-Deleted tombstones the way Exchange 5.5 does (UsnDirectory: a private slapd
 * written only through a writer doing Exchange's bookkeeping; ADR 0050), staged by the real run
 * driver into a real PostgreSQL connector space.
 */
describe('usn delta strategy against a USN-keeping directory', () => {
  const suffix = uniqueSuffix();
  const schema = `int_usn_${suffix}`;
  const site = 'Usn';
  const dir = new UsnDirectory('Contoso', site);
  const pool = new Pool({ connectionString: stackEnv()['MW_PG_ADMIN_URL'], max: 2 });
  let db: DataSource;
  let driver: RunDriver;
  let clock = new Date();
  let connector: ExchangeDirectory;

  beforeAll(async () => {
    // 20 mailboxes loaded offline (slapadd), each with its USN-Created / USN-Changed.
    await dir.create(
      Array.from({ length: 20 }, (_, i) =>
        [`dn: cn=m${i},${dir.recipients}`, 'objectClass: top', 'objectClass: person', 'objectClass: organizationalPerson', 'objectClass: ex55Mailbox', `cn: Display m${i}`, `rdn: m${i}`, `uid: m${i}`, `sn: m${i}`].join('\n'),
      ),
    );
    db = await openConnectorSpace(pool, stackEnv()['MW_PG_ADMIN_URL']!, schema);
    connector = new ExchangeDirectory({
      name: 'exchange',
      url: dir.url,
      bindDn: dir.slapd.adminDn,
      bindPassword: dir.slapd.adminPassword,
      baseDn: 'o=Contoso',
      sites: [site],
      deltaStrategy: 'usn',
      tombstoneLifetimeMs: 30 * 24 * 3600 * 1000,
      clock: () => clock,
    });
    driver = new RunDriver({ db, schema, connector, topic: `int-usn-${suffix}.mw.cs.changes`, source: 'usn-int-test', logger: silent });
  });

  afterAll(async () => {
    await db?.destroy();
    await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await pool.end();
    await dir.dispose();
  });

  async function run(step: 'full-import' | 'delta-import'): Promise<RunRecord> {
    return (await driver.start(step, site)).done;
  }

  /** CS change events enqueued since `fromId` (the outbox is not relayed in this test: it keeps them all). */
  async function events(fromId: number): Promise<Message<'cs.object.changed'>[]> {
    const { rows } = await pool.query(`SELECT id, value FROM ${quoteIdent(schema)}.outbox WHERE id > $1 ORDER BY id`, [fromId]);
    return rows.map((r) => decodeMessage(r.value)).filter((m): m is Message<'cs.object.changed'> => m.type === 'cs.object.changed');
  }
  const lastId = async () => Number((await pool.query(`SELECT coalesce(max(id), 0) AS id FROM ${quoteIdent(schema)}.outbox`)).rows[0].id);
  const watermark = async () => JSON.parse((await driver.watermark(site))!.slice(4)) as { server: string; usn: number; at: string };

  it('takes a full import first and a watermark naming the server', async () => {
    const r = await run('delta-import');
    expect(r).toMatchObject({ step: 'full-import', status: 'completed', counters: expect.objectContaining({ stageAdd: 20 }) });
    expect(await watermark()).toMatchObject({ server: dir.dsaDn(), usn: dir.highestUsn });
  });

  it('reads adds, updates, renames and deletes (tombstones) above the watermark, and nothing twice', async () => {
    const from = await lastId();
    await dir.add('new1', mailbox('new1'));
    await dir.modify(`cn=m1,${dir.recipients}`, { title: 'Director' });
    const renamed = await dir.rename(`cn=m2,${dir.recipients}`, 'm2b');
    await dir.remove(`cn=m3,${dir.recipients}`);
    // created and deleted between two deltas: never seen, nothing to emit
    await dir.remove(await dir.add('ghost', mailbox('ghost')));

    const r = await run('delta-import');
    expect(r).toMatchObject({ step: 'delta-import', status: 'completed' });
    expect(r.counters).toMatchObject({ stageAdd: 1, stageUpdate: 1, stageRename: 1, stageDelete: 1, stageFailure: 0 });
    const got = (await events(from)).map((e) => [e.data.change, e.data.dn]);
    expect(got).toEqual(
      expect.arrayContaining([
        ['add', `cn=new1,${dir.recipients}`],
        ['update', `cn=m1,${dir.recipients}`],
        ['rename', renamed],
        ['delete', `cn=m3,${dir.recipients}`],
      ]),
    );
    expect(got).toHaveLength(4);
    // the tombstone is not a recipient: a full import does not bring it back
    expect((await watermark()).usn).toBe(dir.highestUsn);

    const again = await run('delta-import');
    expect(again.counters).toMatchObject({ stageAdd: 0, stageUpdate: 0, stageRename: 0, stageDelete: 0 });
    expect(await events(await lastId())).toHaveLength(0);
  });

  it('does not see tombstones as recipients in a full import', async () => {
    const from = await lastId();
    const r = await run('full-import');
    expect(r).toMatchObject({ status: 'completed', counters: expect.objectContaining({ stageAdd: 0, stageDelete: 0, stageNoChange: 20 }) });
    expect(await events(from)).toHaveLength(0);
  });

  it('forces a full import when tombstones were purged past the watermark, and the full import finds the delete', async () => {
    await dir.remove(`cn=m4,${dir.recipients}`);
    await dir.purgeTombstones();
    const from = await lastId();
    const r = await run('delta-import');
    expect(r.step).toBe('full-import');
    expect(r.message).toMatch(/tombstones purged past the watermark/);
    // m4's tombstone is gone: only the full import's absence proves the delete — and it does.
    expect(r.counters).toMatchObject({ stageDelete: 1, stageAdd: 0 });
    expect((await events(from)).map((e) => [e.data.change, e.data.dn])).toEqual([['delete', `cn=m4,${dir.recipients}`]]);
  });

  it('forces a full import when the watermark is older than the tombstone lifetime', async () => {
    const at = new Date(Date.parse((await watermark()).at) + 31 * 24 * 3600 * 1000);
    clock = at;
    try {
      const r = await run('delta-import');
      expect(r.step).toBe('full-import');
      expect(r.message).toMatch(/longer than the tombstone lifetime/);
    } finally {
      clock = new Date();
    }
  });

  it('forces a full import when another server answers (USNs are local to one server)', async () => {
    await dir.becomeServer('EXCH02');
    const r = await run('delta-import');
    expect(r.step).toBe('full-import');
    expect(r.message).toMatch(/'cn=Microsoft DSA,cn=EXCH01,.*' but 'cn=Microsoft DSA,cn=EXCH02,/);
    expect(await watermark()).toMatchObject({ server: dir.dsaDn('EXCH02') });
    expect((await run('delta-import')).step).toBe('delta-import');
  });
});

import { randomUUID } from 'node:crypto';
import { ExportApplier, RunDriver } from '@metaweave/connector-runtime';
import { EnvelopeFactory, decodeMessage, type ExportCommandV1, type ExportOutcomeV1, type Message } from '@metaweave/contracts';
import { silentLogger } from '@metaweave/messaging';
import { openDatabase } from '@metaweave/platform';
import { SamrBridge, type SamrConnectOptions, type SamrDomain } from '@metaweave/samr';
import { samrStandIn, stackEnv, uniqueSuffix } from '@metaweave/testing';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { Init1732320000000 } from '../migrations/1732320000000-init';
import { LeaseAndPasswords1732400000000 } from '../migrations/1732400000000-lease-and-passwords';
import { DomainLease } from './lease';
import { Nt4Domain } from './nt4-domain';

jest.setTimeout(120_000);

/**
 * Two deliveries of one export command racing on two replicas (a rebalance while the first waited
 * for the domain's lease): the add is applied once, with one outcome — not an `applied` and then an
 * `already-exists` failure.
 */
describe('ExportApplier under the NT4 domain lease: one export id applied at most once', () => {
  const env = stackEnv();
  const connect: SamrConnectOptions = samrStandIn(env);
  const suffix = uniqueSuffix();
  const schema = `int_${suffix}_nt4_exp`;
  const name = `e${suffix}`;
  const dbs: DataSource[] = [];
  const domains: Nt4Domain[] = [];
  let bridge: SamrBridge;
  let direct: SamrDomain;

  const replica = async (holder: string) => {
    const db = await openDatabase({ url: env['MW_PG_ADMIN_URL']!, schema, applicationName: holder, migrations: [Init1732320000000, LeaseAndPasswords1732400000000], poolSize: 3 });
    dbs.push(db);
    const connector = new Nt4Domain({ name: 'nt4-exp', connect });
    domains.push(connector);
    const lease = new DomainLease({ db, schema, connector: 'nt4-exp', logger: silentLogger, holder });
    const driver = new RunDriver({ db, schema, connector, topic: 'int.cs', source: 'int', logger: silentLogger, lease });
    const applier = new ExportApplier({ db, schema, connector, driver, kafka: {} as Kafka, groupId: 'unused', commandsTopic: 'unused', outcomesTopic: 'int.outcomes', source: 'int', logger: silentLogger });
    return applier as unknown as { handle(m: Message<'export.command'>): Promise<void> };
  };

  beforeAll(async () => {
    bridge = await SamrBridge.start();
    direct = await bridge.connect(connect);
  });
  afterAll(async () => {
    for (const u of await direct.enumerateUsers().catch(() => [])) if (u.accountName === name) await direct.deleteUser(u.rid).catch(() => undefined);
    await bridge?.close();
    for (const d of domains) await d.dispose();
    await dbs[0]?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    for (const db of dbs) await db.destroy();
  });

  it('an add delivered twice at once creates one account and one outcome', async () => {
    const a = await replica('replica-a');
    const b = await replica('replica-b');
    const D = connect.domain.toUpperCase();
    const command: ExportCommandV1 = {
      exportId: randomUUID(),
      connector: 'nt4-exp',
      partition: D,
      anchor: null,
      dn: `${D}\\${name}`,
      objectType: 'user',
      op: 'add',
      attributes: { fullName: ['Raced Add'] },
      changes: [],
      newDn: null,
      mvObjectId: null,
      mvVersion: null,
    };
    const message = new EnvelopeFactory({ source: 'int' }).create({ type: 'export.command', schemaVersion: 1, data: command }) as Message<'export.command'>;
    await Promise.all([a.handle(message), b.handle(message)]);

    const rows: { topic: string; value: Buffer }[] = await dbs[0]!.query(`SELECT topic, value FROM "${schema}".outbox WHERE topic = 'int.outcomes' ORDER BY id`);
    const outcomes = rows.map((r) => (decodeMessage(r.value) as Message<'export.outcome'>).data as ExportOutcomeV1);
    expect(outcomes.map((o) => o.status)).toEqual(['applied']);
    expect((await direct.lookupNames([name]))[0]).toMatchObject({ type: 'user' });
    const [{ tenures }] = await dbs[0]!.query(`SELECT count(*)::int AS tenures FROM "${schema}".lease_log WHERE purpose = 'export add'`);
    expect(tenures).toBe(2); // both deliveries queued for the domain; the second found the first's result
  });
});

import { randomUUID } from 'node:crypto';
import { EnvelopeFactory, decodeMessage, type Message, type PasswordOutcomeV1 } from '@metaweave/contracts';
import { silentLogger } from '@metaweave/messaging';
import { openDatabase } from '@metaweave/platform';
import { SamrBridge, accountSid, type SamrConnectOptions, type SamrDomain } from '@metaweave/samr';
import { generateRecipientKeyPair, sealPassword } from '@metaweave/secrets';
import { samrStandIn, stackEnv, uniqueSuffix } from '@metaweave/testing';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { Init1732320000000 } from '../migrations/1732320000000-init';
import { LeaseAndPasswords1732400000000 } from '../migrations/1732400000000-lease-and-passwords';
import { DomainLease } from './lease';
import { Nt4Domain } from './nt4-domain';
import { PasswordApplier } from './passwords';

jest.setTimeout(120_000);

/**
 * Two deliveries of one password command racing on two replicas (what a consumer-group rebalance
 * during a long lease wait produces): the account is touched once, one outcome is recorded.
 */
describe('PasswordApplier: one command id touches the account at most once', () => {
  const env = stackEnv();
  const connect: SamrConnectOptions = samrStandIn(env);
  const suffix = uniqueSuffix();
  const schema = `int_${suffix}_nt4_pw`;
  const key = generateRecipientKeyPair('k');
  const name = `r${suffix}`;
  const dbs: DataSource[] = [];
  const domains: Nt4Domain[] = [];
  let bridge: SamrBridge;
  let direct: SamrDomain;
  let rid: number;

  const replica = async (holder: string) => {
    const db = await openDatabase({ url: env['MW_PG_ADMIN_URL']!, schema, applicationName: holder, migrations: [Init1732320000000, LeaseAndPasswords1732400000000], poolSize: 3 });
    dbs.push(db);
    const domain = new Nt4Domain({ name: 'nt4-race', connect });
    domains.push(domain);
    return new PasswordApplier({
      db,
      schema,
      kafka: {} as Kafka,
      groupId: 'unused',
      commandsTopic: 'unused',
      outcomesTopic: 'int.password.outcomes',
      source: 'int',
      domain,
      lease: new DomainLease({ db, schema, connector: 'nt4-race', logger: silentLogger, holder }),
      keys: [key],
      lockWaitMs: 30_000,
      logger: silentLogger,
    });
  };

  beforeAll(async () => {
    bridge = await SamrBridge.start();
    direct = await bridge.connect(connect);
    rid = (await direct.createUser({ accountName: name, password: `Old-${suffix}-1!` })).rid;
  });
  afterAll(async () => {
    await direct?.deleteUser(rid).catch(() => undefined);
    await bridge?.close();
    for (const d of domains) await d.dispose();
    await dbs[0]?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    for (const db of dbs) await db.destroy();
  });

  it('a change delivered twice at once is applied once (a second apply would fail: the old password is gone)', async () => {
    const a = await replica('replica-a');
    const b = await replica('replica-b');
    const bound = { commandId: randomUUID(), connector: 'nt4-race', anchor: accountSid(direct.description.domainSid, rid), op: 'change' as const, expiresAt: new Date(Date.now() + 60_000).toISOString() };
    const data = {
      ...bound,
      operationId: randomUUID(),
      domain: connect.domain.toUpperCase(),
      accountName: name,
      forceChangeAtNextLogon: false,
      unlock: false,
      requestedBy: 'int',
      sealed: sealPassword({ oldPassword: `Old-${suffix}-1!`, newPassword: `New-${suffix}-2!` }, key, bound),
    };
    const message = new EnvelopeFactory({ source: 'int' }).create({ type: 'password.command', schemaVersion: 1, data }) as Message<'password.command'>;
    await Promise.all([a.handle(message), b.handle(message)]);

    const rows: { value: Buffer }[] = await dbs[0]!.query(`SELECT value FROM "${schema}".outbox ORDER BY id`);
    const outcomes = rows.map((r) => (decodeMessage(r.value) as Message<'password.outcome'>).data as PasswordOutcomeV1);
    expect(outcomes.map((o) => o.result)).toEqual(['success']);
    expect(await direct.verifyLogon(name, `New-${suffix}-2!`)).toMatchObject({ ok: true });
    const [{ tenures }] = await dbs[0]!.query(`SELECT count(*)::int AS tenures FROM "${schema}".lease_log WHERE purpose = 'password change'`);
    expect(tenures).toBe(2); // both deliveries queued for the domain; the second found the first's result

    // and a later replay is reported, not applied
    await a.handle(message);
    const after: { value: Buffer }[] = await dbs[0]!.query(`SELECT value FROM "${schema}".outbox ORDER BY id`);
    expect(after.map((r) => ((decodeMessage(r.value) as Message<'password.outcome'>).data as PasswordOutcomeV1).result)).toEqual(['success', 'replayed']);
  });
});

import { randomUUID } from 'node:crypto';
import { ConnectorError } from '@metaweave/connector-sdk';
import { EnvelopeFactory, decodeMessage, type Message, type PasswordOutcomeV1 } from '@metaweave/contracts';
import { silentLogger } from '@metaweave/messaging';
import { openDatabase } from '@metaweave/platform';
import { accountSid, type SamrConnectOptions } from '@metaweave/samr';
import { generateRecipientKeyPair, sealPassword } from '@metaweave/secrets';
import { freePort, samrStandIn, stackEnv, uniqueSuffix } from '@metaweave/testing';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { Init1732320000000 } from '../migrations/1732320000000-init';
import { LeaseAndPasswords1732400000000 } from '../migrations/1732400000000-lease-and-passwords';
import { DomainLease } from './lease';
import { Nt4Domain } from './nt4-domain';
import { PasswordApplier } from './passwords';

jest.setTimeout(120_000);

/**
 * Bad configuration and unreachable servers against the live stand-in: the connection test, an
 * export and a password command each say specifically what is wrong (and whether to retry).
 */
describe('NT4 connector: wrong credentials, unknown domain, unreachable server', () => {
  const env = stackEnv();
  const good: SamrConnectOptions = samrStandIn(env);
  const schema = `int_${uniqueSuffix()}_nt4_bad`;
  const key = generateRecipientKeyPair('k');
  const domains: Nt4Domain[] = [];
  let db: DataSource;

  const domainWith = (o: Partial<SamrConnectOptions>) => {
    const d = new Nt4Domain({ name: 'nt4-bad', connect: { ...good, ...o, connectTimeoutSeconds: 5 } });
    domains.push(d);
    return d;
  };

  beforeAll(async () => {
    db = await openDatabase({ url: env['MW_PG_ADMIN_URL']!, schema, applicationName: 'nt4-bad-input', migrations: [Init1732320000000, LeaseAndPasswords1732400000000], poolSize: 3 });
  });
  afterAll(async () => {
    for (const d of domains) await d.dispose().catch(() => undefined);
    await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db?.destroy();
  });

  /** Runs one password set through the applier and returns the outcome it enqueued. */
  const passwordOutcome = async (domain: Nt4Domain): Promise<PasswordOutcomeV1> => {
    const applier = new PasswordApplier({
      db,
      schema,
      kafka: {} as Kafka, // not started: handle() is called directly, the outcome read from the outbox
      groupId: 'unused',
      commandsTopic: 'unused',
      outcomesTopic: 'int.password.outcomes',
      source: 'int',
      domain,
      lease: new DomainLease({ db, schema, connector: domain.name, logger: silentLogger }),
      keys: [key],
      lockWaitMs: 10_000,
      logger: silentLogger,
    });
    const bound = { commandId: randomUUID(), connector: domain.name, anchor: accountSid(env['MW_SAMBA_DOMAIN_SID']!, 1000), op: 'set' as const, expiresAt: new Date(Date.now() + 60_000).toISOString() };
    const data = { ...bound, operationId: randomUUID(), domain: good.domain.toUpperCase(), accountName: 'nobody', forceChangeAtNextLogon: false, unlock: false, requestedBy: 'int', sealed: sealPassword({ newPassword: 'Not-Used-1!' }, key, bound) };
    await applier.handle(new EnvelopeFactory({ source: 'int' }).create({ type: 'password.command', schemaVersion: 1, data }) as Message<'password.command'>);
    const rows: { value: Buffer }[] = await db.query(`SELECT value FROM "${schema}".outbox ORDER BY id DESC LIMIT 1`);
    return (decodeMessage(rows[0]!.value) as Message<'password.outcome'>).data;
  };

  it('wrong administrative password: the connection test, an export and a password command say so', async () => {
    const d = domainWith({ password: 'Wrong-Password-1' });
    const t = await d.test();
    expect(t).toMatchObject({ reachable: false });
    expect(t.detail).toMatch(/NT_STATUS_LOGON_FAILURE|LOGON_FAILURE/);
    expect(t.detail).not.toContain('Wrong-Password-1');
    const e = await d.capabilities.export.apply(good.domain.toUpperCase(), { op: 'delete', anchor: accountSid(env['MW_SAMBA_DOMAIN_SID']!, 1000), dn: 'X\\y' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConnectorError);
    expect(e).toMatchObject({ type: 'invalid-credentials', retriable: false });
    expect(await passwordOutcome(d)).toMatchObject({ result: 'ma-credentials-failure' });
  });

  it('unreachable server: retriable connection-broken export, target-unreachable password result', async () => {
    const d = domainWith({ port: await freePort() });
    const t = await d.test();
    expect(t).toMatchObject({ reachable: false });
    expect(t.detail).toMatch(/CONNECTION_REFUSED|UNREACHABLE|unreachable|refused/i);
    const e = await d.capabilities.export.apply(good.domain.toUpperCase(), { op: 'delete', anchor: accountSid(env['MW_SAMBA_DOMAIN_SID']!, 1000), dn: 'X\\y' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ type: 'connection-broken', retriable: true });
    expect(await passwordOutcome(d)).toMatchObject({ result: 'target-unreachable' });
  });

  it('unknown domain: the connection test names it', async () => {
    const d = domainWith({ domain: 'NOSUCHDOMAIN' });
    const t = await d.test();
    expect(t).toMatchObject({ reachable: false });
    expect(t.detail).toMatch(/NO_SUCH_DOMAIN|NOSUCHDOMAIN/);
  });
});

import { randomUUID } from 'node:crypto';
import { EnvelopeFactory, TOPICS, encodeMessage, type ExportCommandV1, type ExportOutcomeV1, type Message } from '@metaweave/contracts';
import { ServiceProcess, freePort, waitFor } from '@metaweave/testing';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { Pipeline, mailbox, sidBytes } from './harness';

jest.setTimeout(300_000);

/**
 * Export to the Exchange directory: commands applied as they arrive, confirmed by reading the
 * object back into the connector space, redeliveries recognised, refusals typed and kept pending.
 */
describe('export commands to the Exchange connector', () => {
  const p = new Pipeline();
  const envelopes = new EnvelopeFactory({ source: 'e2e' });
  const outcomes: ExportOutcomeV1[] = [];
  let kafka: Kafka;
  let producer: Producer;
  let consumer: Consumer;
  let recipients: string;

  beforeAll(async () => {
    kafka = new Kafka({ clientId: 'e2e', brokers: [p.stack['KAFKA_BROKERS']!], logLevel: logLevel.NOTHING });
    await p.addRecipients([mailbox('hal', 4001, { userPassword: 'Hal-Reader-9' })]);
    recipients = `cn=Recipients,ou=${p.site},${p.stack['MW_LDAP_BASE_DN']}`;
    await p.start('exchange-connector');
    await p.fullImport();
    producer = kafka.producer();
    await producer.connect();
    consumer = kafka.consumer({ groupId: `e2e-outcomes-${p.suffix}` });
    await consumer.connect();
    await consumer.subscribe({ topic: p.topicPrefix + TOPICS.exportOutcomes.name, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void outcomes.push((JSON.parse(String(message.value)) as Message<'export.outcome'>).data) });
  });
  afterAll(async () => {
    await producer?.disconnect();
    await consumer?.disconnect();
    await p.dispose();
  });

  const command = (c: Partial<ExportCommandV1> & Pick<ExportCommandV1, 'op' | 'dn'>): ExportCommandV1 => ({
    exportId: randomUUID(),
    connector: 'exchange',
    partition: p.site,
    anchor: null,
    objectType: 'customRecipient',
    attributes: {},
    changes: [],
    newDn: null,
    mvObjectId: null,
    mvVersion: null,
    ...c,
  });
  const send = async (c: ExportCommandV1) => {
    const message = envelopes.create({ type: 'export.command', schemaVersion: 1, data: c });
    await producer.send({ topic: p.topicPrefix + TOPICS.exportCommands.name, messages: [{ key: `exchange/${c.anchor ?? c.dn}`, value: encodeMessage(message as Message) }] });
  };
  const outcomeOf = (exportId: string) => waitFor(`the outcome of export ${exportId}`, () => outcomes.find((o) => o.exportId === exportId), 60_000);
  const csRow = async (anchor: string) =>
    (await p.admin.query(`SELECT dn, attributes, deleted, version FROM "${p.schema('exchange-connector')}".cs_object WHERE anchor = $1`, [anchor])).rows[0];

  it('adds, updates (binary included), renames and deletes, each confirmed by reading back', async () => {
    const add = command({ op: 'add', dn: `cn=ivy-ext,${recipients}`, attributes: { cn: ['ivy-ext'], uid: ['ivy-ext'], 'Target-Address': ['SMTP:ivy@example.net'] } });
    await send(add);
    const added = await outcomeOf(add.exportId);
    expect(added).toMatchObject({ status: 'applied', op: 'add', notReimported: [], attempt: 1 });
    const anchor = added.anchor!;
    expect((await csRow(anchor)).attributes['Target-Address']).toEqual(['SMTP:ivy@example.net']);

    const sid = sidBytes(4321);
    const update = command({ op: 'update', anchor, dn: add.dn, changes: [{ name: 'Assoc-NT-Account', op: 'replace', values: [{ b64: sid.toString('base64') }] }, { name: 'title', op: 'add', values: ['Partner'] }] });
    await send(update);
    expect(await outcomeOf(update.exportId)).toMatchObject({ status: 'applied', notReimported: [] });
    const client = await p.ldap();
    try {
      const { searchEntries } = await client.search(add.dn, { scope: 'base', attributes: ['Assoc-NT-Account', 'title'], explicitBufferAttributes: ['Assoc-NT-Account'] });
      expect(Buffer.compare(searchEntries[0]!['Assoc-NT-Account'] as Buffer, sid)).toBe(0);
      expect(searchEntries[0]!['title']).toBe('Partner');
    } finally {
      await client.unbind();
    }

    const rename = command({ op: 'rename', anchor, dn: add.dn, newDn: `cn=ivy2-ext,${recipients}` });
    await send(rename);
    expect(await outcomeOf(rename.exportId)).toMatchObject({ status: 'applied', dn: `cn=ivy2-ext,${recipients}` });
    expect((await csRow(anchor)).dn).toBe(`cn=ivy2-ext,${recipients}`);

    // The DN in the command is stale: the connector finds the object by its anchor.
    const del = command({ op: 'delete', anchor, dn: add.dn });
    await send(del);
    expect(await outcomeOf(del.exportId)).toMatchObject({ status: 'applied', op: 'delete' });
    expect(await csRow(anchor)).toMatchObject({ deleted: true });
  });

  it('recognises a redelivered command and does not apply it twice', async () => {
    const c = command({ op: 'add', dn: `cn=jo-ext,${recipients}`, attributes: { cn: ['jo-ext'], 'Target-Address': ['SMTP:jo@example.net'] } });
    await send(c);
    await outcomeOf(c.exportId);
    await send(c);
    const marker = command({ op: 'add', dn: `cn=kit-ext,${recipients}`, attributes: { cn: ['kit-ext'], 'Target-Address': ['SMTP:kit@example.net'] } });
    await send(marker);
    await outcomeOf(marker.exportId);
    expect(outcomes.filter((o) => o.exportId === c.exportId)).toHaveLength(1);
    const [row] = (await p.admin.query(`SELECT attempts FROM "${p.schema('exchange-connector')}".export_state WHERE export_id = $1`, [c.exportId])).rows;
    expect(row.attempts).toBe(1);
  });

  it('types a refusal, keeps it pending, and the Export step retries it', async () => {
    const c = command({ op: 'add', dn: `cn=lea-ext,${recipients}`, attributes: { cn: ['lea-ext'] } });
    await send(c);
    const failed = await outcomeOf(c.exportId);
    expect(failed).toMatchObject({ status: 'failed', error: { type: 'missing-mandatory-attribute', retriable: false } });
    expect(failed.error!.message).toMatch(/Target-Address/);

    const step = await p.json<{ retried: number; failed: number }>('exchange-connector', '/api/v1/runs', { method: 'POST', body: { step: 'export', partition: p.site } });
    expect(step.body).toMatchObject({ retried: 1, failed: 1 });
    await waitFor('a second attempt', () => (outcomes.filter((o) => o.exportId === c.exportId).length === 2 ? true : undefined));
    expect(outcomes.filter((o) => o.exportId === c.exportId).map((o) => o.attempt)).toEqual([1, 2]);
  });

  it('says the account needs administrator rights when it may only read', async () => {
    // A second connector instance bound as a mailbox that may only read the directory.
    const port = await freePort();
    const reader = new ServiceProcess({
      name: 'exchange-connector',
      env: await p.env('exchange-connector', {
        MW_LDAP_BIND_DN: `cn=hal,${recipients}`,
        MW_LDAP_BIND_PASSWORD: 'Hal-Reader-9',
        MW_TOPIC_PREFIX: `${p.topicPrefix}ro.`,
        MW_DATABASE_SCHEMA: `${p.schema('exchange-connector')}_ro`,
        MW_HTTP_PORT: String(port),
      }),
    }).start();
    try {
      await reader.waitReady(port);
      const roOutcomes: ExportOutcomeV1[] = [];
      const c2 = kafka.consumer({ groupId: `e2e-ro-${p.suffix}` });
      await c2.connect();
      await c2.subscribe({ topic: `${p.topicPrefix}ro.${TOPICS.exportOutcomes.name}`, fromBeginning: true });
      await c2.run({ eachMessage: async ({ message }) => void roOutcomes.push((JSON.parse(String(message.value)) as Message<'export.outcome'>).data) });
      const c = command({ op: 'add', dn: `cn=max-ext,${recipients}`, attributes: { cn: ['max-ext'], 'Target-Address': ['SMTP:max@example.net'] } });
      const message = envelopes.create({ type: 'export.command', schemaVersion: 1, data: c });
      await producer.send({ topic: `${p.topicPrefix}ro.${TOPICS.exportCommands.name}`, messages: [{ key: 'exchange/max', value: encodeMessage(message as Message) }] });
      const refused = await waitFor('the read-only outcome', () => roOutcomes.find((o) => o.exportId === c.exportId), 60_000);
      await c2.disconnect();
      expect(refused).toMatchObject({ status: 'failed', error: { type: 'insufficient-rights' } });
      expect(refused.error!.message).toMatch(/administrator permissions/);
    } finally {
      await reader.stop();
      await p.admin.query(`DROP SCHEMA IF EXISTS "${p.schema('exchange-connector')}_ro" CASCADE`);
    }
  });
});

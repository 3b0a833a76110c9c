import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deadLetterTopic, TOPICS } from '@metaweave/contracts';
import { waitFor } from '@metaweave/testing';
import { Kafka, logLevel } from 'kafkajs';
import { Pipeline, mailbox, sidBytes } from './harness';

jest.setTimeout(300_000);

interface MvObject {
  id: string;
  objectType: string;
  version: number;
  attributes: Record<string, unknown[]>;
  connectors: { connector: string; anchor: string; dn: string }[];
}

/**
 * The walking skeleton: a change observed by the Exchange connector crosses the join engine and
 * lands in the projection service's read model, idempotently, in one trace, on the real stack.
 */
describe('walking skeleton: Exchange directory → join engine → read model', () => {
  const p = new Pipeline();
  let kafka: Kafka;

  beforeAll(async () => {
    kafka = new Kafka({ clientId: 'e2e', brokers: [p.stack['KAFKA_BROKERS']!], logLevel: logLevel.NOTHING });
    await p.start('projection-service');
    await p.start('join-engine');
    await p.start('exchange-connector');
  });
  afterAll(() => p.dispose());

  const search = async (query: string) => (await p.json<{ count: number; objects: MvObject[] }>('projection-service', `/api/v1/objects?${query}`)).body;

  it('imports recipients into the metaverse with byte-exact binary values, in one trace per change', async () => {
    // A real DER certificate (slapd checks the syntax): self-signed EC, CN=jsmith, valid until 2126.
    const cert = Buffer.from(readFileSync(join(__dirname, '..', 'fixtures', 'test-certificate.der.b64'), 'utf8').trim(), 'base64');
    await p.addRecipients([
      mailbox('alice', 2001, { department: 'IT' }),
      ['alice-cert', { ...mailbox('alice-cert', 2002)[1], 'userCertificate;binary': cert }],
      ['ext-bob', { objectClass: ['top', 'Remote-Address'], cn: 'Bob (external)', uid: 'ext-bob', 'Target-Address': 'SMTP:bob@example.net' }],
    ]);

    const run = await p.fullImport();
    expect(run).toMatchObject({ status: 'completed', deletesWithheld: 0 });
    expect(run.counters).toMatchObject({ stageAdd: 3, stageUpdate: 0, stageDelete: 0, stageFailure: 0 });

    const all = await waitFor('3 objects in the read model', async () => {
      const r = await search('limit=100');
      return r.count === 3 ? r.objects : undefined;
    });
    const alice = (await search('type=person&uid=alice')).objects;
    expect(alice).toHaveLength(1);
    expect(alice[0]).toMatchObject({ objectType: 'person', version: 1, attributes: { mail: ['alice@contoso.com'], department: ['IT'] } });
    expect(alice[0]!.attributes['Assoc-NT-Account']).toEqual([{ b64: sidBytes(2001).toString('base64') }]);
    const withCert = (await search('uid=alice-cert')).objects[0]!;
    expect(Buffer.from((withCert.attributes['userCertificate;binary']![0] as { b64: string }).b64, 'base64').equals(cert)).toBe(true);
    expect((await search('type=contact')).objects.map((o) => o.attributes['Target-Address'])).toEqual([['SMTP:bob@example.net']]);

    // One trace per change across the three services: the connector's span that staged the change,
    // the join engine's consumer span, the projection's consumer span.
    await waitFor('spans of the three services to be exported', () => {
      const ids = (s: Parameters<Pipeline['spans']>[0]) => new Set(p.spans(s).map((x) => x.traceId));
      const connector = p.spans('exchange-connector').filter((s) => s.name === 'cs.add');
      const joined = connector.filter((s) => ids('join-engine').has(s.traceId) && ids('projection-service').has(s.traceId));
      return joined.length === 3 ? joined : undefined;
    });
    // The read model's consumer of MV events (it also consumes run events, which are traces of their own).
    const projectionConsumer = p.spans('projection-service').filter((s) => s.kind === 'CONSUMER' && s.name.endsWith('mw.mv.events process'));
    expect(projectionConsumer).toHaveLength(3);
    expect(new Set(all.map((o) => o.connectors[0]!.anchor)).size).toBe(3);
  });

  it('discovers the Exchange schema from the live directory', async () => {
    const { status, body } = await p.json<{ objectTypes: { name: string; mandatory: string[]; attributes: string[] }[]; attributes: { name: string; syntax: string; multiValued: boolean }[] }>(
      'exchange-connector',
      '/api/v1/schema',
    );
    expect(status).toBe(200);
    expect(body.objectTypes.map((t) => t.name)).toEqual(['mailbox', 'customRecipient', 'distributionList']);
    expect(body.objectTypes.find((t) => t.name === 'customRecipient')!.mandatory).toContain('Target-Address');
    expect(body.attributes.find((a) => a.name === 'Assoc-NT-Account')).toMatchObject({ syntax: 'binary', multiValued: false });
    expect(body.attributes.find((a) => a.name === 'member')).toMatchObject({ syntax: 'reference', multiValued: true });
    expect(body.attributes.find((a) => a.name === 'Extension-Attribute-15')).toMatchObject({ syntax: 'string', multiValued: false });
  });

  it('changes nothing when the same directory is imported again', async () => {
    const before = (await search('limit=100')).objects;
    const run = await p.fullImport();
    expect(run.counters).toMatchObject({ stageAdd: 0, stageUpdate: 0, stageNoChange: 3 });
    const after = (await search('limit=100')).objects;
    expect(after.map((o) => [o.id, o.version])).toEqual(before.map((o) => [o.id, o.version]));
  });

  it('flows an update and a delete seen by the next full import', async () => {
    const client = await p.ldap();
    const recipients = `cn=Recipients,ou=${p.site},${p.stack['MW_LDAP_BASE_DN']}`;
    try {
      const { Change, Attribute } = await import('ldapts');
      await client.modify(`cn=alice,${recipients}`, [new Change({ operation: 'replace', modification: new Attribute({ type: 'department', values: ['Finance'] }) })]);
      await client.del(`cn=ext-bob,${recipients}`);
    } finally {
      await client.unbind();
    }
    const run = await p.fullImport();
    expect(run.counters).toMatchObject({ stageUpdate: 1, stageDelete: 1, stageNoChange: 1 });
    await waitFor('the update and the delete in the read model', async () => {
      const alice = (await search('uid=alice')).objects[0];
      const contacts = (await search('type=contact')).count;
      return alice?.version === 2 && alice.attributes['department']?.[0] === 'Finance' && contacts === 0 ? true : undefined;
    });
  });

  it('dead-letters a malformed event with its reason, and the join engine keeps going', async () => {
    const topic = p.topicPrefix + TOPICS.csChanges.name;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'bad', value: '{"not":"an envelope"}' }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `e2e-dlq-${p.suffix}` });
    await consumer.connect();
    await consumer.subscribe({ topic: deadLetterTopic(topic), fromBeginning: true });
    const dead: { key: string; reason: string; value: string }[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        dead.push({ key: String(message.key), reason: String(message.headers?.['mw-dlq-reason'] ?? ''), value: String(message.value) });
      },
    });
    try {
      const letter = await waitFor('the malformed event on the dead-letter topic', () => dead.find((d) => d.key === 'bad'));
      expect(letter.value).toBe('{"not":"an envelope"}');
      expect(letter.reason).toMatch(/invalid envelope: eventId/);
    } finally {
      await consumer.disconnect();
    }

    await p.addRecipients([mailbox('carol', 2003)]);
    await p.fullImport();
    await waitFor('carol in the read model after the bad event', async () => ((await search('uid=carol')).count === 1 ? true : undefined));
  });

  it('drains and exits 0 on SIGTERM', async () => {
    for (const service of ['exchange-connector', 'join-engine', 'projection-service'] as const) {
      expect({ service, code: await p.processes[service]!.stop() }).toEqual({ service, code: 0 });
    }
  });
});

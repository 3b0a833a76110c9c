import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMessage, deadLetterTopic, EnvelopeFactory, topicSpecs, TOPICS, type CsObjectChangedV1, type ExportCommandV1, type Message, type MvObjectChangedV2 } from '@metaweave/contracts';
import { ConsumerLoop, createKafka, ensureTopics, MessageProducer, OutboxRelay, silentLogger } from '@metaweave/messaging';
import { openDatabase, openPool } from '@metaweave/platform';
import { stackEnv, uniqueSuffix, waitFor } from '@metaweave/testing';
import { sidFromString } from '@metaweave/sync-rules';
import type { Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { Init1732320000000 } from '../migrations/1732320000000-init';
import { WriteModel1732600000000 } from '../migrations/1732600000000-write-model';
import { JoinEngine } from './engine';
import { RulesHolder } from './rules-holder';

jest.setTimeout(300_000);

/**
 * The join engine over the real PostgreSQL and Kafka of the local stack: the seed scenario from
 * CS events to MV events and export commands, two replicas racing, a crash between the state
 * write and the publish, dead letters, full synchronization after a rule change, the delete
 * threshold. One schema and one topic prefix per file.
 */
const DOMAIN_SID = 'S-1-5-21-1144201745-2289526357-3433806489';
const sid = (rid: number) => `${DOMAIN_SID}-${rid}`;
const sidB64 = (rid: number) => ({ b64: Buffer.from(sidFromString(sid(rid))).toString('base64') });
const DEFAULT_RULES = readFileSync(join(__dirname, '..', '..', '..', '..', 'config', 'rules', 'default.yaml'), 'utf8');

const envelopes = new EnvelopeFactory({ source: 'int-test' });
const csVersions = new Map<string, number>();
function cs(data: Partial<CsObjectChangedV1> & Pick<CsObjectChangedV1, 'connector' | 'anchor'>): Message<'cs.object.changed'> {
  const key = `${data.connector}/${data.anchor}`;
  const csVersion = data.csVersion ?? (csVersions.get(key) ?? 0) + 1;
  csVersions.set(key, csVersion);
  return envelopes.create({
    type: 'cs.object.changed',
    schemaVersion: 1,
    data: { partition: 'SiteA', objectType: 'mailbox', dn: `cn=${data.anchor}`, previousDn: null, change: 'add', attributes: {}, delta: [], ...data, csVersion },
  }) as Message<'cs.object.changed'>;
}
const mailbox = (alias: string, rid: number | null, extra: Record<string, unknown[]> = {}) =>
  cs({
    connector: 'exchange',
    anchor: `mbx-${alias}`,
    dn: `cn=${alias},cn=Recipients,ou=SiteA,o=Contoso`,
    attributes: { uid: [alias], cn: [`Display ${alias}`], mail: [`${alias}@contoso.com`], ...(rid ? { 'Assoc-NT-Account': [sidB64(rid)] } : {}), ...extra } as CsObjectChangedV1['attributes'],
  });
const ntUser = (name: string, rid: number, extra: Partial<CsObjectChangedV1> = {}) =>
  cs({ connector: 'nt4-contoso', anchor: sid(rid), partition: 'CONTOSO', objectType: 'user', dn: `CONTOSO\\${name}`, attributes: { objectSid: [sidB64(rid)], accountName: [name] }, ...extra });

describe('join engine on PostgreSQL and Kafka', () => {
  const suffix = uniqueSuffix();
  const schema = `je_int_${suffix}`;
  const prefix = `jeint${suffix}.`;
  const url = stackEnv()['MW_PG_ADMIN_URL']!;
  let admin: Pool;
  let kafka: Kafka;
  const pools: Pool[] = [];
  const stops: (() => Promise<void>)[] = [];

  const pool = () => {
    const p = openPool({ url, schema, applicationName: 'je-int', poolSize: 6 });
    pools.push(p);
    return p;
  };
  const engine = (rules: RulesHolder, extra: Partial<ConstructorParameters<typeof JoinEngine>[0]> = {}) => new JoinEngine({ pool: pool(), schema, topicPrefix: prefix, rules, ...extra });
  const q = async (sql: string, params: unknown[] = []) => (await admin.query(sql.replaceAll('$S', `"${schema}"`), params)).rows;
  const outboxMessages = async () => (await q(`SELECT value FROM $S.outbox ORDER BY id`)).map((r) => decodeMessage(r.value as Buffer));
  const reset = async () => {
    for (const t of ['mv_object', 'mv_event', 'mv_index', 'cs_link', 'cs_join_key', 'pending_provision', 'sync_error', 'held_delete', 'mv_ref', 'inbox', 'outbox']) await q(`DELETE FROM $S.${t}`);
  };

  /** Collects every message of the given topics (from the beginning). */
  async function collect(topics: string[]) {
    const seen: { topic: string; message: Message; headers: Record<string, string> }[] = [];
    const consumer = kafka.consumer({ groupId: `je-int-collect-${uniqueSuffix()}` });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        if (topic.endsWith('.dlq')) seen.push({ topic, message: { data: String(message.value) } as unknown as Message, headers });
        else seen.push({ topic, message: decodeMessage(message.value), headers });
      },
    });
    stops.push(() => consumer.disconnect());
    return seen;
  }

  async function startRelay(p: Pool) {
    const producer = new MessageProducer({ kafka, logger: silentLogger });
    await producer.connect();
    const relay = new OutboxRelay({ pool: p, schema, producer, logger: silentLogger, idleDelayMs: 100 });
    await relay.start();
    const stop = async () => {
      await relay.stop();
      await producer.disconnect();
    };
    stops.push(stop);
    return stop;
  }

  beforeAll(async () => {
    admin = new Pool({ connectionString: url, max: 2 });
    const db = await openDatabase({ url, schema, applicationName: 'je-int-migrate', migrations: [Init1732320000000, WriteModel1732600000000] });
    await db.destroy();
    kafka = createKafka({ brokers: [stackEnv()['KAFKA_BROKERS']!], clientId: `je-int-${suffix}`, logger: silentLogger, logLevel: 'nothing' });
    await ensureTopics(kafka, topicSpecs(prefix), silentLogger);
  });

  afterEach(async () => {
    // Relays, loops and collectors of one test never outlive it (a failed test must not drain the next one's outbox).
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  });

  afterAll(async () => {
    for (const p of pools) await p.end().catch(() => undefined);
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    const kadmin = kafka.admin();
    await kadmin.connect();
    await kadmin.deleteTopics({ topics: topicSpecs(prefix).map((t) => t.name) }).catch(() => undefined);
    await kadmin.disconnect();
  });

  it('seed scenario: CS events in over Kafka → MV events and export commands out, unknown connector dead-lettered', async () => {
    await reset();
    const rules = RulesHolder.fromText(DEFAULT_RULES, 'config/rules/default.yaml');
    const e = engine(rules);
    const loop = new ConsumerLoop({
      kafka,
      groupId: `${prefix}join-engine`,
      topics: [prefix + TOPICS.csChanges.name],
      expectedTypes: ['cs.object.changed'],
      fromBeginning: true,
      logger: silentLogger,
      handle: (m) => e.handle(m as Message<'cs.object.changed'>),
    });
    await loop.start();
    stops.push(() => loop.stop());
    await startRelay(pool());
    const out = await collect([prefix + TOPICS.mvEvents.name, prefix + TOPICS.exportCommands.name, deadLetterTopic(prefix + TOPICS.csChanges.name)]);

    const producer = new MessageProducer({ kafka, logger: silentLogger });
    await producer.connect();
    stops.push(() => producer.disconnect());
    const send = (...messages: Message<'cs.object.changed'>[]) =>
      producer.send(
        prefix + TOPICS.csChanges.name,
        messages.map((m) => ({ key: `${m.data.connector}/${m.data.anchor}`, message: m })),
      );
    // The NT4 account of alice arrives before her mailbox (it must join once the mailbox projects).
    await send(ntUser('alice', 1001), ntUser('svc-backup', 3001));
    await send(mailbox('alice', 1001), mailbox('carol', null), cs({ connector: 'ad-fabrikam', anchor: 'x1', objectType: 'user' }));

    const mvEvents = () => out.filter((o) => o.topic.endsWith(TOPICS.mvEvents.name)).map((o) => o.message.data as MvObjectChangedV2);
    const exports = () => out.filter((o) => o.topic.endsWith(TOPICS.exportCommands.name)).map((o) => o.message.data as ExportCommandV1);
    const alice = await waitFor('alice joined across both connectors', () => mvEvents().find((m) => m.attributes['uid']?.[0] === 'alice' && m.connectors.length === 2));
    expect(alice.attributes).toMatchObject({ sid: [sid(1001)], ntAccount: ['CONTOSO\\alice'] });
    // (A list that arrives before its members gets them when they join: covered by the sync-rules specs.)
    await send(cs({ connector: 'exchange', anchor: 'dl-it', objectType: 'distributionList', attributes: { uid: ['All-IT'], member: [{ ref: 'mbx-alice' }, { ref: 'mbx-carol' }] } }));
    expect(alice.rulesVersion).toBe(rules.current.version);
    expect(alice.lineage.find((l) => l.attribute === 'ntAccount')).toMatchObject({ connector: 'nt4-contoso', anchor: sid(1001) });

    const dead = await waitFor('the unknown connector on the dead-letter topic', () => out.find((o) => o.topic.endsWith('.dlq')));
    expect(dead.headers['mw-dlq-reason']).toMatch(/unknown connector 'ad-fabrikam': the rules define 'exchange', 'nt4-contoso'/);

    // carol has no NT account: one is provisioned; when the NT4 import brings it back, its SID flows to Exchange.
    const add = await waitFor('the provisioned NT4 account', () => exports().find((x) => x.op === 'add' && x.objectType === 'user'));
    expect(add).toMatchObject({ connector: 'nt4-contoso', anchor: null, dn: 'CONTOSO\\carol', partition: 'CONTOSO', attributes: { accountName: ['carol'], userAccountControl: [513] } });
    await send(ntUser('carol', 1105));
    const back = await waitFor('the new SID exported to Exchange', () => exports().find((x) => x.connector === 'exchange' && x.op === 'update'));
    expect(back).toMatchObject({ anchor: 'mbx-carol', changes: [{ name: 'Assoc-NT-Account', op: 'replace', values: [sidB64(1105)] }] });

    // The distribution list became an NT4 global group with the members that have NT4 accounts.
    const group = await waitFor('the provisioned NT4 group', () => exports().find((x) => x.op === 'add' && x.objectType === 'group'));
    expect(group.dn).toBe('CONTOSO\\All-IT');
    expect(group.attributes['member']).toEqual(expect.arrayContaining([{ ref: sid(1001) }]));

    // The unjoined NT4 user stays a disconnector, and nothing was projected for it.
    expect(await q(`SELECT state, mv_object_id FROM $S.cs_link WHERE anchor = $1`, [sid(3001)])).toEqual([{ state: 'disconnector', mv_object_id: null }]);
    expect(mvEvents().filter((m) => m.connectors.some((c) => c.anchor === sid(3001)))).toEqual([]);
    // Every MV event is also in the append-only event store, versions without gaps.
    await waitFor('the outbox drained', async () => ((await q(`SELECT count(*)::int AS n FROM $S.outbox`))[0].n === 0 ? true : undefined));
    const store = await q(`SELECT mv_object_id, array_agg(version ORDER BY version) AS versions FROM $S.mv_event GROUP BY 1`);
    for (const s of store) expect(s.versions).toEqual(Array.from({ length: s.versions.length }, (_, i) => i + 1));
    await loop.stop();
  });

  it('two replicas racing on the same person from both connectors never make two MV objects (100 rounds)', async () => {
    await reset();
    // Both sides may project (the hard case): NT4 users join on sid or else project a person too.
    const racy = DEFAULT_RULES.replace(
      "              - { cs: objectSid, transform: sidToString, mv: sid }\n",
      "              - { cs: objectSid, transform: sidToString, mv: sid }\n        project: person\n",
    ).replace(
      "      mailbox:\n        project: person\n",
      "      mailbox:\n        join:\n          - mvType: person\n            match:\n              - { cs: Assoc-NT-Account, transform: sidToString, mv: sid }\n        project: person\n",
    );
    const rules = RulesHolder.fromText(racy, 'racy.yaml');
    const a = engine(rules);
    const b = engine(rules);
    for (let round = 0; round < 100; round++) {
      const rid = 20_000 + round;
      const [first, second] = round % 2 === 0 ? [a, b] : [b, a];
      await Promise.all([first.handle(mailbox(`race${round}`, rid)), second.handle(ntUser(`race${round}`, rid))]);
    }
    const perSid = await q(`SELECT value_key, count(*)::int AS n FROM $S.mv_index WHERE attribute = 'sid' GROUP BY 1 HAVING count(*) <> 1`);
    expect(perSid).toEqual([]);
    const [{ objects }] = await q(`SELECT count(*)::int AS objects FROM $S.mv_object WHERE NOT deleted`);
    expect(objects).toBe(100);
    const [{ linked }] = await q(`SELECT count(*)::int AS linked FROM $S.cs_link WHERE state = 'normal'`);
    expect(linked).toBe(200);
    const split = await q(`SELECT id FROM $S.mv_object WHERE jsonb_array_length(connectors) <> 2`);
    expect(split).toEqual([]);
  });

  it('a crash between the state write and the publish loses nothing: before commit nothing is kept, after commit the outbox publishes', async () => {
    await reset();
    const rules = RulesHolder.fromText(DEFAULT_RULES, 'default.yaml');
    const crashing = engine(rules, {
      beforeCommit: async () => {
        throw new Error('process killed');
      },
    });
    const message = mailbox('dora', 1201);
    await expect(crashing.handle(message)).rejects.toThrow('process killed');
    expect(await q(`SELECT count(*)::int AS n FROM $S.inbox`)).toEqual([{ n: 0 }]);
    expect(await q(`SELECT count(*)::int AS n FROM $S.mv_object`)).toEqual([{ n: 0 }]);

    // Redelivery to a healthy replica with no relay running: state and outbox commit together…
    const healthy = engine(rules);
    await healthy.handle(message);
    await healthy.handle(message); // …and a second redelivery changes nothing.
    const pending = await outboxMessages();
    expect(pending.map((m) => m.type)).toEqual(['mv.object.changed']);
    const id = (pending[0]!.data as MvObjectChangedV2).mvObjectId;

    // The engine "dies" before publishing; a relay started later (another replica) publishes it.
    const out = await collect([prefix + TOPICS.mvEvents.name]);
    await startRelay(pool());
    await waitFor('the committed MV event on Kafka', () => out.find((o) => (o.message.data as MvObjectChangedV2).mvObjectId === id));
    expect(out.filter((o) => (o.message.data as MvObjectChangedV2).mvObjectId === id)).toHaveLength(1);
  });

  it('a rule change + full synchronization changes exactly the objects the new rule affects', async () => {
    await reset();
    const rules = RulesHolder.fromText(DEFAULT_RULES, 'default.yaml');
    const e = engine(rules);
    for (let i = 0; i < 6; i++) await e.handle(mailbox(`fs${i}`, 1300 + i, i % 3 === 0 ? { department: ['Sales'] } : {}));
    const before = await q(`SELECT mv_object_id, max(version) AS v FROM $S.mv_event GROUP BY 1`);
    expect(before).toHaveLength(6);

    // Unchanged rules: a full sync changes nothing.
    const idle = await e.fullSync('exchange');
    expect(idle).toMatchObject({ status: 'completed', objects: 6 });
    expect(await q(`SELECT count(*)::int AS n FROM $S.mv_event`)).toEqual([{ n: 6 }]);

    rules.replace(DEFAULT_RULES.replace('          - { mv: site, from: $partition }', '          - { mv: site, from: $partition }\n          - { mv: costCenter, from: department, transform: upper }'));
    const run = await e.fullSync();
    expect(run.status).toBe('completed');
    const changed = await q(`SELECT data FROM $S.mv_event WHERE version = 2`);
    expect(changed.map((r) => r.data.attributes.uid[0]).sort()).toEqual(['fs0', 'fs3']);
    for (const r of changed) expect(r.data).toMatchObject({ reason: 'full-sync', rulesVersion: rules.current.version, attributes: { costCenter: ['SALES'] } });
    const runEvents = (await outboxMessages()).filter((m) => m.type === 'run.event').map((m) => m.data as { runId: string; status: string; step: string });
    expect(runEvents.filter((r) => r.runId === run.runId).map((r) => [r.step, r.status])).toEqual([
      ['full-sync', 'running'],
      ['full-sync', 'completed'],
    ]);
  });

  it('delete threshold: a full sync that would delete 60% of a connector’s objects holds them; approval releases them', async () => {
    await reset();
    const base = DEFAULT_RULES.replace('nt4-contoso:\n    deprovision: disconnector', 'nt4-contoso:\n    deprovision: delete\n    deleteThreshold: { percent: 50 }').replace(
      'person:\n    deletion: last-connector',
      'person:\n    deletion: { authoritative: [exchange] }',
    );
    const rules = RulesHolder.fromText(base, 'threshold.yaml');
    const e = engine(rules);
    for (let i = 0; i < 5; i++) {
      await e.handle(mailbox(`th${i}`, 1400 + i, i < 3 ? { department: ['Leavers'] } : {}));
      await e.handle(ntUser(`th${i}`, 1400 + i));
    }
    // A broken rule (or source) filters 3 of 5 mailboxes: their persons go, their NT4 accounts would be deleted.
    rules.replace(base.replace('      mailbox:\n        project: person', '      mailbox:\n        filter:\n          - { attribute: department, op: equals, value: Leavers }\n        project: person'));
    const exportDeletes = async () => (await outboxMessages()).filter((m) => m.type === 'export.command' && (m.data as ExportCommandV1).op === 'delete');
    const run = await e.fullSync();
    expect(run).toMatchObject({ status: 'held', heldDeletes: 3 });
    expect(await exportDeletes()).toEqual([]);
    const runEnd = (await outboxMessages()).filter((m) => m.type === 'run.event').map((m) => m.data as { runId: string; status: string; message: string }).find((r) => r.runId === run.runId && r.status === 'held');
    expect(runEnd!.message).toMatch(/nt4-contoso: 3 deletes of 5 objects \(60%\) exceed the threshold percent 50/);
    expect(await e.heldDeletes()).toEqual([expect.objectContaining({ runId: run.runId, connector: 'nt4-contoso', count: 3 })]);

    expect(await e.approveHeldDeletes(run.runId)).toBe(3);
    const released = (await exportDeletes()).map((m) => (m.data as ExportCommandV1).anchor).sort();
    expect(released).toEqual([sid(1400), sid(1401), sid(1402)]);
    expect(await e.approveHeldDeletes(run.runId)).toBe(0);
  });

  it('delete threshold in continuous synchronization: deletes beyond the threshold within the window are held until approved', async () => {
    await reset();
    const rules = RulesHolder.fromText(
      DEFAULT_RULES.replace('nt4-contoso:\n    deprovision: disconnector', 'nt4-contoso:\n    deprovision: delete\n    deleteThreshold: { count: 2, windowMinutes: 60 }').replace(
        'person:\n    deletion: last-connector',
        'person:\n    deletion: { authoritative: [exchange] }',
      ),
      'threshold.yaml',
    );
    const e = engine(rules);
    for (let i = 0; i < 5; i++) {
      await e.handle(mailbox(`ct${i}`, 1600 + i));
      await e.handle(ntUser(`ct${i}`, 1600 + i));
    }
    // The Exchange side loses four mailboxes: their NT4 accounts would be deleted one by one.
    for (let i = 0; i < 4; i++) await e.handle(cs({ connector: 'exchange', anchor: `mbx-ct${i}`, change: 'delete' }));
    const deletes = async () => (await outboxMessages()).filter((m) => m.type === 'export.command' && (m.data as ExportCommandV1).op === 'delete').map((m) => (m.data as ExportCommandV1).anchor);
    expect(await deletes()).toEqual([sid(1600), sid(1601)]);
    const [held] = await e.heldDeletes();
    expect(held).toMatchObject({ connector: 'nt4-contoso', count: 2 });
    const runEvents = (await outboxMessages()).filter((m) => m.type === 'run.event').map((m) => m.data as { runId: string; step: string; status: string; message: string });
    expect(runEvents).toEqual([expect.objectContaining({ runId: held!.runId, step: 'delta-sync', status: 'held', message: expect.stringMatching(/deletes to nt4-contoso exceed the threshold \(3 within 60 min of 5 objects\)/) })]);
    expect(await e.approveHeldDeletes(held!.runId)).toBe(2);
    expect(await deletes()).toEqual([sid(1600), sid(1601), sid(1602), sid(1603)]);
  });

  it('keeps per-object errors with first occurrence and retry count, and clears them on success', async () => {
    await reset();
    const e = engine(RulesHolder.fromText(DEFAULT_RULES, 'default.yaml'));
    await e.handle(mailbox('r1', 1501));
    await e.handle(mailbox('r2', 1501));
    await e.handle(ntUser('shared', 1501));
    const [first] = await q(`SELECT type, retry_count, first_occurred FROM $S.sync_error`);
    expect(first).toMatchObject({ type: 'join-ambiguous', retry_count: 0 });
    await e.fullSync('nt4-contoso');
    const [again] = await q(`SELECT type, retry_count, first_occurred FROM $S.sync_error`);
    expect(again).toMatchObject({ type: 'join-ambiguous', retry_count: 1, first_occurred: first.first_occurred });
    await e.handle(mailbox('r2', null, {}));
    await e.fullSync('nt4-contoso');
    expect(await q(`SELECT * FROM $S.sync_error`)).toEqual([]);
    expect(await q(`SELECT state FROM $S.cs_link WHERE anchor = $1`, [sid(1501)])).toEqual([{ state: 'normal' }]);
  });
});

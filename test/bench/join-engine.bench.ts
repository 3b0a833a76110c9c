import { EnvelopeFactory, TOPICS, type CsObjectChangedV1, type Message } from '@metaweave/contracts';
import { createKafka, MessageProducer, silentLogger } from '@metaweave/messaging';
import { sidFromString } from '@metaweave/sync-rules';
import { waitFor } from '@metaweave/testing';
import { Pipeline } from '../e2e/harness';

/**
 * Join engine throughput as a service on the real Kafka and PostgreSQL, default rules:
 * `MW_BENCH_N` mailboxes projected, then as many NT4 accounts joining them (half arriving after
 * their mailbox, half interleaved with it), then a full synchronization that changes nothing.
 * CS events are produced straight to the CS topic; a phase ends when the join engine's write
 * model shows its outcome. Prints events/s. Run: `npm run bench -- test/bench/join-engine`.
 */
jest.setTimeout(3_600_000);

const N = Number(process.env['MW_BENCH_N'] ?? 2000);
const DOMAIN_SID = 'S-1-5-21-1144201745-2289526357-3433806489';
const envelopes = new EnvelopeFactory({ source: 'bench' });
const sidB64 = (rid: number) => ({ b64: Buffer.from(sidFromString(`${DOMAIN_SID}-${rid}`)).toString('base64') });
const cs = (data: Partial<CsObjectChangedV1> & Pick<CsObjectChangedV1, 'connector' | 'anchor'>) =>
  envelopes.create({
    type: 'cs.object.changed',
    schemaVersion: 1,
    data: { partition: 'SiteA', objectType: 'mailbox', dn: `cn=${data.anchor}`, previousDn: null, change: 'add', attributes: {}, delta: [], csVersion: 1, ...data },
  }) as Message<'cs.object.changed'>;

describe(`join engine service, ${N} mailboxes + ${N} NT4 accounts`, () => {
  const p = new Pipeline();
  afterAll(() => p.dispose());

  it('measures', async () => {
    await p.start('join-engine');
    const kafka = createKafka({ brokers: [p.stack['KAFKA_BROKERS']!], clientId: 'bench', logger: silentLogger, logLevel: 'nothing' });
    const producer = new MessageProducer({ kafka, logger: silentLogger });
    await producer.connect();
    const topic = p.topicPrefix + TOPICS.csChanges.name;
    const send = async (messages: Message<'cs.object.changed'>[]) => {
      for (let i = 0; i < messages.length; i += 500) {
        await producer.send(topic, messages.slice(i, i + 500).map((m) => ({ key: `${m.data.connector}/${m.data.anchor}`, message: m })));
      }
    };
    const je = p.schema('join-engine');
    const count = async (sql: string) => (await p.admin.query(sql.replaceAll('$S', `"${je}"`))).rows[0].n as number;
    const until = (what: string, sql: string, n: number) => waitFor(what, async () => ((await count(sql)) >= n ? true : undefined), 3_600_000, 250);

    const mailbox = (i: number) => cs({ connector: 'exchange', anchor: `mbx-${i}`, attributes: { uid: [`u${i}`], cn: [`User ${i}`], mail: [`u${i}@contoso.com`], 'Assoc-NT-Account': [sidB64(100_000 + i)] } });
    const account = (i: number) =>
      cs({ connector: 'nt4-contoso', anchor: `${DOMAIN_SID}-${100_000 + i}`, partition: 'CONTOSO', objectType: 'user', dn: `CONTOSO\\u${i}`, attributes: { objectSid: [sidB64(100_000 + i)], accountName: [`u${i}`], fullName: [`User ${i}`] } });
    const half = Math.floor(N / 2);
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
    const persons = `SELECT count(*)::int AS n FROM $S.mv_object WHERE NOT deleted`;
    const joined = `SELECT count(*)::int AS n FROM $S.mv_object WHERE jsonb_array_length(connectors) = 2`;

    let t = Date.now();
    await send(range(0, half).map(mailbox));
    await until('the mailboxes projected', persons, half);
    const projectMs = Date.now() - t;
    t = Date.now();
    await send(range(0, half).map(account));
    await until('the NT4 accounts joined', joined, half);
    const joinMs = Date.now() - t;
    t = Date.now();
    await send(range(half, N).flatMap((i) => [account(i), mailbox(i)]));
    await until('the interleaved ones joined', joined, N);
    const mixedMs = Date.now() - t;
    t = Date.now();
    const started = await p.json<{ runId: string }>('join-engine', '/api/v1/sync/full', { method: 'POST', body: {} });
    const run = {
      body: await waitFor(
        'the full synchronization',
        async () => {
          const r = (await p.json<{ status: string; objects: number }>('join-engine', `/api/v1/sync/runs/${started.body.runId}`)).body;
          return r.status === 'running' ? undefined : r;
        },
        3_600_000,
        250,
      ),
    };
    const fullMs = Date.now() - t;
    await producer.disconnect();

    const rate = (n: number, ms: number) => `${Math.round((n * 1000) / ms)}/s`;
    const rows: [string, number, number][] = [
      ['mailboxes projected', half, projectMs],
      ['NT4 accounts joined (mailbox first)', half, joinMs],
      ['NT4 account + mailbox interleaved', 2 * (N - half), mixedMs],
      ['full synchronization (no change)', run.body.objects, fullMs],
    ];
    process.stdout.write(`\njoin engine service, default rules, ${N} people\n`);
    for (const [what, n, ms] of rows) process.stdout.write(`  ${what.padEnd(40)} ${String(n).padStart(6)} events  ${String(ms).padStart(7)} ms  ${rate(n, ms).padStart(7)}\n`);
    expect(await count(persons)).toBe(N);
    expect(await count(joined)).toBe(N);
    expect(run.body.status).toBe('completed');
  });
});

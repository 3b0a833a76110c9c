import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvelopeFactory, TOPICS, topicSpecs, type Message } from '@metaweave/contracts';
import { createKafka, ensureTopics, MessageProducer, parseBrokers, silentLogger } from '@metaweave/messaging';
import { sidFromString } from '@metaweave/samr';
import { REPO_ROOT, waitFor } from '@metaweave/testing';
import { Pipeline } from '../e2e/harness';

/**
 * Projection service throughput: an initial sync's worth of MV events (`MW_BENCH_PROJECTION_N`,
 * default 100,000, one per new person, with lineage and two connectors, as the join engine
 * publishes them) already on the topic when the service starts — the rate it applies them at
 * (events/s) is what it can keep up with. Then the replay of the same stream into a new schema
 * and the checksum. Prints a table and merges its figures into bench-results.json.
 * Run: `npm run bench -- test/bench/projection`.
 */
jest.setTimeout(3_600_000);

const N = Number(process.env['MW_BENCH_PROJECTION_N'] ?? 100_000);
const AT = '2026-11-23T12:00:00.000Z';

describe(`projection service, ${N} MV events`, () => {
  const p = new Pipeline();
  afterAll(() => p.dispose());

  it('measures', async () => {
    const kafka = createKafka({ brokers: parseBrokers(p.stack['KAFKA_BROKERS']!), clientId: 'bench', logLevel: 'nothing' });
    await ensureTopics(kafka, topicSpecs(p.topicPrefix), silentLogger);
    const producer = new MessageProducer({ kafka, logger: silentLogger });
    await producer.connect();
    const factory = new EnvelopeFactory({ source: 'join-engine' });
    let t = Date.now();
    for (let i = 0; i < N; i += 1000) {
      const batch: { key: string; message: Message }[] = [];
      for (let j = i; j < Math.min(N, i + 1000); j++) {
        const id = randomUUID();
        const sid = `S-1-5-21-1144201745-2289526357-3433806489-${100_000 + j}`;
        const message: Message<'mv.object.changed'> = factory.create({
          type: 'mv.object.changed',
          schemaVersion: 2,
          data: {
            mvObjectId: id,
            objectType: 'person',
            version: 1,
            change: 'projected',
            attributes: {
              uid: [`b${j}`],
              mail: [`b${j}@contoso.com`],
              displayName: [`Bench User ${j}`],
              department: [['IT', 'Sales', 'Ops'][j % 3]!],
              sid: [{ b64: sidFromString(sid).toString('base64') }],
              ntAccount: [`CONTOSO\\b${j}`],
            },
            connectors: [
              { connector: 'exchange', anchor: `ex-${j}`, dn: `cn=b${j},cn=Recipients,ou=SiteA,o=Contoso`, state: 'connected' },
              { connector: 'nt4-contoso', anchor: sid, dn: `CONTOSO\\b${j}`, state: 'connected' },
            ],
            lineage: ['uid', 'mail', 'displayName', 'department', 'sid'].map((attribute) => ({
              attribute,
              connector: 'exchange',
              anchor: `ex-${j}`,
              flow: `exchange/mailbox/${attribute}`,
              rulesVersion: 'sha256:bench',
              at: AT,
            })).concat([{ attribute: 'ntAccount', connector: 'nt4-contoso', anchor: sid, flow: 'nt4-contoso/user/ntAccount', rulesVersion: 'sha256:bench', at: AT }]),
            rulesVersion: 'sha256:bench',
            cause: { connector: 'exchange', anchor: `ex-${j}`, csVersion: 1 },
            reason: 'projection',
          },
        });
        batch.push({ key: id, message });
      }
      await producer.send(p.topicPrefix + TOPICS.mvEvents.name, batch);
    }
    const publishMs = Date.now() - t;
    await producer.disconnect();

    const schema = p.schema('projection-service');
    t = Date.now();
    await p.start('projection-service');
    const startMs = Date.now() - t;
    const applied = async () => Number((await p.admin.query(`SELECT count(*) AS n FROM "${schema}".mv_object_event`)).rows[0].n);
    await waitFor('every event applied', async () => ((await applied()) >= N ? true : undefined), 3_000_000, 250);
    const applyMs = Date.now() - t;

    t = Date.now();
    const sum = {
      body: (await (
        await fetch(p.url('projection-service', '/api/v1/projection/checksum'), {
          headers: { authorization: `Bearer ${await p.token(['browse'])}` },
          signal: AbortSignal.timeout(600_000),
        })
      ).json()) as { checksum: string; rows: Record<string, number> },
    };
    const checksumMs = Date.now() - t;
    expect(sum.body.rows['mv_object']).toBe(N);

    t = Date.now();
    const rebuild = await fetch(p.url('projection-service', '/api/v1/projection/rebuild'), {
      method: 'POST',
      headers: { authorization: `Bearer ${await p.token(['admins'])}` },
      signal: AbortSignal.timeout(3_000_000),
    });
    const rebuilt = (await rebuild.json()) as { equal: boolean; rebuilt: { checksum: string } };
    const rebuildMs = Date.now() - t;
    expect(rebuilt).toMatchObject({ equal: true, rebuilt: { checksum: sum.body.checksum } });

    const rate = (ms: number) => Math.round((N / ms) * 1000);
    const rows = {
      'publish the MV events (producer, 1000 per send)': { ms: publishMs, perSecond: rate(publishMs) },
      'service start → every event applied (read model rows + offsets)': { ms: applyMs, perSecond: rate(applyMs), startMs },
      'checksum of the read model': { ms: checksumMs, perSecond: rate(checksumMs) },
      'rebuild: replay into a new schema, compare, switch over': { ms: rebuildMs, perSecond: rate(rebuildMs) },
    };
    process.stdout.write(`\nprojection service, ${N} MV events (this machine, ${new Date().toISOString()})\n`);
    // eslint-disable-next-line no-console -- a benchmark prints its table
    console.table(rows);
    const file = join(REPO_ROOT, 'bench-results.json');
    const results = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    results[`projection-${N}`] = { at: new Date().toISOString(), events: N, ...rows };
    writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  });
});

import { TOPICS, decodeMessage, type Message, type RunEventV1 } from '@metaweave/contracts';
import { waitFor } from '@metaweave/testing';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { Pipeline, mailbox } from './harness';

jest.setTimeout(300_000);

/**
 * The Exchange connector service as operators reach it: run events on `mw.run.events` for every
 * recorded run (import and export steps), the connection test (`mw connector test exchange`) and
 * the schema refresh (`mw schema refresh exchange`).
 */
describe('Exchange connector operations', () => {
  const p = new Pipeline();
  const events: RunEventV1[] = [];
  const keys: string[] = [];
  let consumer: Consumer;

  beforeAll(async () => {
    await p.addRecipients([mailbox('opal', 4001), mailbox('piet', 4002)]);
    await p.start('exchange-connector');
    const kafka = new Kafka({ clientId: 'e2e', brokers: [p.stack['KAFKA_BROKERS']!], logLevel: logLevel.NOTHING });
    consumer = kafka.consumer({ groupId: `e2e-runs-${p.suffix}` });
    await consumer.connect();
    await consumer.subscribe({ topic: p.topicPrefix + TOPICS.runEvents.name, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        keys.push(String(message.key));
        events.push((decodeMessage(message.value, ['run.event']) as Message<'run.event'>).data);
      },
    });
  });
  afterAll(async () => {
    await consumer?.disconnect();
    await p.dispose();
  });

  it('publishes a run event at the start and the end of an import run, keyed connector/site', async () => {
    const run = await p.fullImport();
    expect(run.status).toBe('completed');
    const last = await waitFor('the run ended event', () => events.find((e) => e.step === 'full-import' && e.endedAt !== null) ?? undefined, 60_000, 200);
    expect(last).toMatchObject({ connector: 'exchange', partition: p.site, status: 'completed', counters: expect.objectContaining({ stageAdd: 2 }) });
    const ofRun = events.filter((e) => e.runId === last.runId).sort((a, b) => a.sequence - b.sequence);
    expect(ofRun[0]).toMatchObject({ status: 'running', sequence: 0 });
    expect(new Set(keys)).toEqual(new Set([`exchange/${p.site}`]));
  });

  it('records the Export step as a run with export counters and run events', async () => {
    const step = await p.json<{ runId: string; status: string; counters: Record<string, number>; retried: number }>('exchange-connector', '/api/v1/runs', {
      method: 'POST',
      body: { step: 'export', partition: p.site },
    });
    expect(step.body).toMatchObject({ status: 'completed', retried: 0, counters: { exportAdd: 0, exportFailure: 0 } });
    await waitFor('the export run events', () => (events.some((e) => e.runId === step.body.runId && e.endedAt !== null) ? true : undefined), 60_000, 200);
    const runs = await p.json<{ runs: { id: string; step: string }[] }>('exchange-connector', '/api/v1/runs');
    expect(runs.body.runs.find((r) => r.id === step.body.runId)).toMatchObject({ step: 'export' });
  });

  it('tests the connection: an administrator may write', async () => {
    const r = await p.json<{ reachable: boolean; canRead: boolean; canWrite: boolean; detail: string }>('exchange-connector', '/api/v1/connection');
    expect(r.body).toMatchObject({ reachable: true, canRead: true, canWrite: true });
    expect(r.body.detail).not.toContain(p.stack['MW_LDAP_BIND_PASSWORD']!);
  });

  it('refreshes the schema: a first reference, then nothing changed', async () => {
    const first = await p.json<{ first: boolean }>('exchange-connector', '/api/v1/schema/refresh', { method: 'POST', body: {} });
    expect(first).toMatchObject({ status: 200, body: { first: true } });
    const second = await p.json<{ first: boolean; added: { attributes: string[] }; removed: { attributes: string[] } }>('exchange-connector', '/api/v1/schema/refresh', { method: 'POST', body: {} });
    expect(second.body).toMatchObject({ first: false, added: { attributes: [] }, removed: { attributes: [] } });
  });
});

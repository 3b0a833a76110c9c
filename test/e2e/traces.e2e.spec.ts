import { OtlpReceiver, waitFor } from '@metaweave/testing';
import { Pipeline, mailbox, type ServiceName } from './harness';

jest.setTimeout(300_000);

/**
 * Traces leave the services over OTLP/HTTP, as in production (MW_OTEL_EXPORTER=otlp), to a real
 * OTLP endpoint; one change observed in the directory is one trace across every service it touches.
 */
describe('one trace per change, exported over OTLP', () => {
  const p = new Pipeline();
  const receiver = new OtlpReceiver();
  const services: ServiceName[] = ['projection-service', 'join-engine', 'exchange-connector'];

  beforeAll(async () => {
    await receiver.start();
    for (const s of services) await p.start(s, { MW_OTEL_EXPORTER: 'otlp', MW_OTEL_ENDPOINT: receiver.url });
  });
  afterAll(async () => {
    await p.dispose();
    await receiver.stop();
  });

  it('follows a new mailbox from the Exchange import through the join engine into the read model', async () => {
    await p.addRecipients([mailbox('traced', 3201)]);
    expect((await p.fullImport()).counters).toMatchObject({ stageAdd: 1 });

    const trace = await waitFor(
      'one trace with spans of all three services',
      () => {
        const root = receiver.spans.find((s) => s.service === 'exchange-connector' && s.name === 'cs.add');
        return root && services.every((s) => receiver.servicesOf(root.traceId).has(s)) ? root.traceId : undefined;
      },
      120_000,
      250,
    );
    const spans = receiver.spans.filter((s) => s.traceId === trace);
    // Every span but the root has its parent in the same trace: nothing is orphaned on the way.
    const ids = new Set(spans.map((s) => s.spanId));
    const orphans = spans.filter((s) => s.parentSpanId !== null && !ids.has(s.parentSpanId));
    expect(orphans.map((s) => `${s.service}:${s.name}`)).toEqual([]);
    // The consumer spans carry the messaging conventions.
    const consumers = spans.filter((s) => s.attributes['messaging.operation.type'] === 'process');
    expect(new Set(consumers.map((s) => s.service))).toEqual(new Set(['join-engine', 'projection-service']));
    expect(receiver.rejected).toEqual([]);
  });
});

import { freePort, waitFor } from '@metaweave/testing';
import { Pipeline, mailbox, type ServiceName } from './harness';

jest.setTimeout(240_000);

/** Prometheus scrape endpoints (MW_METRICS_PORT) show what the services did, per topic and outcome. */
describe('metrics', () => {
  const p = new Pipeline();
  const metricsPort: Partial<Record<ServiceName, number>> = {};

  beforeAll(async () => {
    for (const s of ['projection-service', 'join-engine', 'exchange-connector'] as const) {
      metricsPort[s] = await freePort();
      await p.start(s, { MW_METRICS_PORT: String(metricsPort[s]), MW_METRICS_HOST: '127.0.0.1' });
    }
  });
  afterAll(() => p.dispose());

  const scrape = async (s: ServiceName) => (await fetch(`http://127.0.0.1:${metricsPort[s]}/metrics`)).text();
  /** Sum of a metric's samples whose labels contain every given label. */
  const sample = (text: string, name: string, labels: Record<string, string>) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

  it('count the messages each consumer handled and the outbox rows each producer published', async () => {
    await p.addRecipients([mailbox('metrics-a', 3101), mailbox('metrics-b', 3102)]);
    expect((await p.fullImport()).counters).toMatchObject({ stageAdd: 2 });

    const csTopic = `${p.topicPrefix}mw.cs.changes`;
    const joined = await waitFor('the join engine to count 2 handled CS events', async () => {
      const text = await scrape('join-engine');
      return sample(text, 'mw_messages_processed_total', { topic: csTopic, outcome: 'handled' }) >= 2 ? text : undefined;
    }, 120_000, 500);
    expect(sample(joined, 'mw_messages_processed_total', { topic: csTopic, outcome: 'dead-lettered' })).toBe(0);
    expect(joined).toMatch(/^mw_message_processing_duration_seconds_count\{/m);
    // Propagation latency of the hop and the consumer's lag (caught up: 0 on every partition it read).
    expect(sample(joined, 'mw_message_age_seconds_count', { topic: csTopic })).toBeGreaterThanOrEqual(2);
    expect(joined).toMatch(new RegExp(`^mw_consumer_lag\\{[^}]*topic="${csTopic.replace(/\./g, '\\.')}"`, 'm'));
    expect(sample(joined, 'mw_consumer_lag', { topic: csTopic })).toBe(0);

    const exchange = await scrape('exchange-connector');
    expect(sample(exchange, 'mw_outbox_published_total', {})).toBeGreaterThanOrEqual(2);
    expect(exchange).toContain(`service_name="exchange-connector"`);
    // The run's MIIS counters and its final status.
    expect(sample(exchange, 'mw_runs_total', { connector: 'exchange', partition: p.site, step: 'full-import', status: 'completed' })).toBe(1);
    expect(sample(exchange, 'mw_run_objects_total', { connector: 'exchange', partition: p.site, counter: 'stageAdd' })).toBe(2);
  });
});

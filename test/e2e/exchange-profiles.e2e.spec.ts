import { ServiceProcess, waitFor } from '@metaweave/testing';
import { Pipeline, mailbox } from './harness';

jest.setTimeout(300_000);

interface RunView {
  id: string;
  step: string;
  status: string;
}

/** Run profiles from configuration: named step lists, on an interval or a cron schedule, or on demand. */
describe('Exchange run profiles', () => {
  const p = new Pipeline();
  beforeAll(async () => {
    await p.addRecipients([mailbox('quinn', 4101)]);
    await p.start('exchange-connector', {
      MW_EXCHANGE_RUN_PROFILES: JSON.stringify({
        sync: { steps: ['full-import', 'export'], intervalMs: 1000 },
        nightly: { steps: ['delta-import'], cron: '0 3 * * *' },
      }),
    });
  });
  afterAll(() => p.dispose());

  it('runs an interval profile by itself, its steps in order', async () => {
    const runs = await waitFor(
      'the sync profile to have run twice',
      async () => {
        const { body } = await p.json<{ runs: RunView[] }>('exchange-connector', '/api/v1/runs');
        return body.runs.filter((r) => r.step === 'export').length >= 2 ? body.runs : undefined;
      },
      120_000,
      250,
    );
    const oldestFirst = [...runs].reverse().map((r) => r.step);
    expect(oldestFirst.slice(0, 4)).toEqual(['full-import', 'export', 'full-import', 'export']);
  });

  it('lists the profiles with their schedules, runs one on demand, and names an unknown one', async () => {
    const { body } = await p.json<{ profiles: { name: string; schedule: string; nextRunAt: string | null }[] }>('exchange-connector', '/api/v1/runs/profiles');
    expect(body.profiles).toEqual([
      expect.objectContaining({ name: 'sync', schedule: 'every 1000 ms', nextRunAt: null }),
      expect.objectContaining({ name: 'nightly', schedule: 'cron 0 3 * * *', nextRunAt: expect.stringMatching(/T/) }),
    ]);
    const ran = await p.json<{ partitions: Record<string, { step: string; status: string }[]> }>('exchange-connector', '/api/v1/runs/profiles/nightly', { method: 'POST', body: {} });
    expect(ran.status).toBe(200);
    expect(ran.body.partitions[p.site]).toEqual([expect.objectContaining({ step: 'delta-import', status: expect.stringMatching(/completed|no-change/) })]);
    const unknown = await p.json<{ message: string }>('exchange-connector', '/api/v1/runs/profiles/weekly', { method: 'POST', body: {} });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/no run profile 'weekly' \(configured: sync, nightly\)/);
  });

  it('refuses a bad profile at boot, naming the key and the profile', async () => {
    const env = await p.env('exchange-connector', { MW_EXCHANGE_RUN_PROFILES: JSON.stringify({ broken: { steps: ['full-import'], cron: '0 25 * * *' } }) });
    const proc = new ServiceProcess({ name: 'exchange-connector', env }).start();
    expect(await proc.waitExit()).toBe(78);
    expect(proc.logs).toMatch(/MW_EXCHANGE_RUN_PROFILES: profile 'broken': invalid cron '0 25 \* \* \*': hour '25' outside 0-23/);
  });
});

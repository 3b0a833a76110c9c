import { Attribute, Change } from 'ldapts';
import { waitFor } from '@metaweave/testing';
import { Pipeline, mailbox } from './harness';

jest.setTimeout(300_000);

interface MvObject {
  id: string;
  version: number;
  deleted: boolean;
  attributes: Record<string, unknown[]>;
  connectors: { dn: string }[];
}

/**
 * Continuous synchronization: with the connector's default schedule (a delta import every second,
 * the first one a full import), changes made directly in the Exchange directory reach the
 * metaverse without anyone starting a run — adds, modifies, renames and deletes (accesslog strategy).
 */
describe('continuous delta imports from the Exchange directory', () => {
  const p = new Pipeline();
  const search = async (query: string) => (await p.json<{ count: number; objects: MvObject[] }>('projection-service', `/api/v1/objects?${query}`)).body;

  beforeAll(async () => {
    await p.addRecipients([mailbox('dora', 3001), mailbox('eve', 3002), mailbox('finn', 3003)]);
    await p.start('projection-service');
    await p.start('join-engine');
    await p.start('exchange-connector', { MW_EXCHANGE_DELTA_INTERVAL_MS: '1000' });
  });
  afterAll(() => p.dispose());

  it('imports the site by itself, first with a full import', async () => {
    await waitFor('the three recipients in the read model', async () => ((await search('type=person')).count === 3 ? true : undefined), 120_000, 250);
    const { body } = await p.json<{ runs: { step: string; status: string; message: string | null; counters: Record<string, number> }[] }>('exchange-connector', '/api/v1/runs');
    const first = body.runs[body.runs.length - 1]!;
    expect(first).toMatchObject({ step: 'full-import', status: 'completed', counters: expect.objectContaining({ stageAdd: 3 }) });
    expect(first.message).toMatch(/no watermark yet/);
  });

  it('carries adds, modifies, renames and deletes without a run being started', async () => {
    const client = await p.ldap();
    const recipients = `cn=Recipients,ou=${p.site},${p.stack['MW_LDAP_BASE_DN']}`;
    try {
      await client.modify(`cn=dora,${recipients}`, [new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: ['Director'] }) })]);
      await client.modifyDN(`cn=eve,${recipients}`, `cn=eve2,${recipients}`);
      await client.del(`cn=finn,${recipients}`);
    } finally {
      await client.unbind();
    }
    await p.addRecipients([mailbox('gus', 3004)]);

    await waitFor(
      'every change in the read model',
      async () => {
        const people = (await search('type=person&limit=100')).objects;
        const byUid = new Map(people.map((o) => [String(o.attributes['uid']?.[0]), o]));
        const ok =
          byUid.get('dora')?.attributes['title']?.[0] === 'Director' &&
          byUid.get('eve')?.connectors[0]?.dn === `cn=eve2,${recipients}` &&
          !byUid.has('finn') &&
          byUid.has('gus') &&
          people.length === 3;
        return ok ? true : undefined;
      },
      60_000,
      250,
    );
    const { body } = await p.json<{ runs: { step: string; counters: Record<string, number> }[] }>('exchange-connector', '/api/v1/runs');
    const deltas = body.runs.filter((r) => r.step === 'delta-import');
    const total = (k: string) => deltas.reduce((n, r) => n + (r.counters[k] ?? 0), 0);
    expect({ update: total('stageUpdate'), rename: total('stageRename'), delete: total('stageDelete'), add: total('stageAdd') }).toEqual({
      update: 1,
      rename: 1,
      delete: 1,
      add: 1,
    });
  });

  it('emits nothing when the directory did not change', async () => {
    const before = (await search('type=person&limit=100')).objects.map((o) => [o.id, o.version]);
    const run = await p.fullImport('delta-import');
    expect(run).toMatchObject({ step: 'delta-import', status: 'completed' });
    expect(run.counters).toMatchObject({ stageAdd: 0, stageUpdate: 0, stageRename: 0, stageDelete: 0, stageFailure: 0 });
    expect((await search('type=person&limit=100')).objects.map((o) => [o.id, o.version])).toEqual(before);
  });
});

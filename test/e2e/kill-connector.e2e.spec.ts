import { waitFor } from '@metaweave/testing';
import { Attribute, Change } from 'ldapts';
import { Pipeline, mailbox } from './harness';

jest.setTimeout(600_000);

const N = 1500;

/**
 * Invariants 1 and 2 at the connector: SIGKILL the Exchange connector in the middle of a full
 * import, restart it, import again — every recipient reaches the metaverse exactly once, the
 * interrupted run is recorded as abandoned, and the join engine acted on no duplicate. Then the
 * same in the middle of a delta import of a change to every recipient.
 */
describe('Exchange connector killed with SIGKILL mid-import and mid-delta', () => {
  const p = new Pipeline();
  afterAll(() => p.dispose());

  it('loses nothing and doubles nothing', async () => {
    await p.start('join-engine');
    await p.addRecipients(Array.from({ length: N }, (_, i) => mailbox(`c${i}`, 20_000 + i)));
    const connector = await p.start('exchange-connector', { MW_LOG_LEVEL: 'warn' });
    const cs = `"${p.schema('exchange-connector')}".cs_object`;
    const started = await p.json<{ runId: string }>('exchange-connector', '/api/v1/runs', { method: 'POST', body: { step: 'full-import', partition: p.site } });
    expect(started.status).toBe(202);
    const atKill = await waitFor(
      'the import to be part-way through',
      async () => {
        const [{ n }] = (await p.admin.query(`SELECT count(*)::int AS n FROM ${cs}`)).rows;
        return n > 0 ? n : undefined;
      },
      120_000,
      10,
    );
    await connector.kill();
    const [{ n: staged }] = (await p.admin.query(`SELECT count(*)::int AS n FROM ${cs}`)).rows;
    expect(staged).toBeGreaterThanOrEqual(atKill);
    expect(staged).toBeLessThan(N);

    await p.start('exchange-connector');
    const run = await p.fullImport();
    expect(run.status).toBe('completed');
    expect(run.counters['stageAdd']! + staged).toBe(N);
    expect(run.counters['stageNoChange']).toBe(staged);

    const runs = (await p.json<{ runs: { id: string; status: string }[] }>('exchange-connector', '/api/v1/runs')).body.runs;
    expect(runs.find((r) => r.id === started.body.runId)?.status).toBe('abandoned');

    const je = p.schema('join-engine');
    await waitFor(
      'every recipient linked in the metaverse',
      async () => {
        const [{ n }] = (await p.admin.query(`SELECT count(*)::int AS n FROM "${je}".cs_link`)).rows;
        return n === N ? true : undefined;
      },
      300_000,
      200,
    );
    const [mv] = (await p.admin.query(`SELECT count(*)::int AS n, max(version) AS hi FROM "${je}".mv_object`)).rows;
    expect(mv).toEqual({ n: N, hi: 1 });
    const [{ events }] = (await p.admin.query(`SELECT count(*)::int AS events FROM "${je}".inbox`)).rows;
    expect(events).toBe(N);
  });

  it('mid-delta: every change reaches the metaverse once, none twice', async () => {
    const je = p.schema('join-engine');
    const cs = `"${p.schema('exchange-connector')}".cs_object`;
    const client = await p.ldap();
    try {
      for (let i = 0; i < N; i++) {
        await client.modify(`cn=c${i},cn=Recipients,ou=${p.site},${p.stack['MW_LDAP_BASE_DN']}`, [
          new Change({ operation: 'replace', modification: new Attribute({ type: 'department', values: ['Moved'] }) }),
        ]);
      }
    } finally {
      await client.unbind();
    }
    const connector = p.processes['exchange-connector']!;
    const started = await p.json<{ runId: string }>('exchange-connector', '/api/v1/runs', { method: 'POST', body: { step: 'delta-import', partition: p.site } });
    expect(started.status).toBe(202);
    // A delta of 1,500 changes stages in well under a second here, too fast to catch part-way by
    // polling: kill the moment the run has started, wherever it is.
    await connector.kill();
    const [{ n: staged }] = (await p.admin.query(`SELECT count(*)::int AS n FROM ${cs} WHERE version > 1`)).rows;
    expect(staged).toBeLessThanOrEqual(N);
    const [killed] = (await p.admin.query(`SELECT status FROM "${p.schema('exchange-connector')}".run WHERE id = $1`, [started.body.runId])).rows;
    expect(killed?.status).toBe('running');

    await p.start('exchange-connector');
    const run = await p.fullImport('delta-import');
    expect(run.status).toBe('completed');
    // The restarted delta stages exactly what the killed one had not (its watermark covered the rest).
    expect(run.counters['stageUpdate']! + staged).toBe(N);
    const [{ n: updated }] = (await p.admin.query(`SELECT count(*)::int AS n FROM ${cs} WHERE version = 2`)).rows;
    expect(updated).toBe(N);
    const runs = (await p.json<{ runs: { id: string; status: string }[] }>('exchange-connector', '/api/v1/runs')).body.runs;
    expect(runs.find((r) => r.id === started.body.runId)?.status).toBe('abandoned');

    await waitFor(
      'every person to carry the new department',
      async () => {
        const [{ n }] = (await p.admin.query(`SELECT count(*)::int AS n FROM "${je}".mv_object WHERE attributes->'department' = '["Moved"]'::jsonb`)).rows;
        return n === N ? true : undefined;
      },
      300_000,
      200,
    );
    // Each person changed once: version 2 everywhere, none moved twice by a redelivered change.
    const [mv] = (await p.admin.query(`SELECT count(*)::int AS n, min(version) AS lo, max(version) AS hi FROM "${je}".mv_object`)).rows;
    expect(mv).toEqual({ n: N, lo: 2, hi: 2 });
  });
});

import { waitFor } from '@metaweave/testing';
import { Pipeline, mailbox } from './harness';

jest.setTimeout(600_000);

const N = 1500;

/**
 * Invariants 1, 2 and 7 at the projection: SIGKILL the projection service in the middle of a
 * backlog of MV events, restart it, and the read model ends with every object exactly once, each
 * event applied once, and the stored consumer positions at the end of the log.
 */
describe('projection service killed with SIGKILL mid-stream', () => {
  const p = new Pipeline();
  afterAll(() => p.dispose());

  it('loses nothing and applies nothing twice', async () => {
    await p.start('join-engine');
    await p.start('exchange-connector');
    const t0 = Date.now();
    await p.addRecipients(Array.from({ length: N }, (_, i) => mailbox(`k${i}`, 10_000 + i)));
    const t1 = Date.now();
    const run = await p.fullImport();
    const t2 = Date.now();
    expect(run.counters).toMatchObject({ stageAdd: N, stageFailure: 0 });

    // Let the join engine put the whole backlog on the MV topic, then start the projection on it.
    const outbox = `"${p.schema('join-engine')}".outbox`;
    const linked = `"${p.schema('join-engine')}".cs_link`;
    await waitFor(
      'the join engine to publish every MV event',
      async () => {
        const [{ links }] = (await p.admin.query(`SELECT count(*)::int AS links FROM ${linked}`)).rows;
        const [{ pending }] = (await p.admin.query(`SELECT count(*)::int AS pending FROM ${outbox}`)).rows;
        return links === N && pending === 0 ? true : undefined;
      },
      300_000,
      200,
    );

    const t3 = Date.now();
    process.stderr.write(`timings: ldap add ${t1 - t0} ms, full import ${t2 - t1} ms, join engine drain ${t3 - t2} ms\n`);
    const projection = await p.start('projection-service');
    const events = `"${p.schema('projection-service')}".mv_object_event`;
    const applied = async () => Number((await p.admin.query(`SELECT count(*) AS n FROM ${events}`)).rows[0].n);
    const atKill = await waitFor('the projection to be part-way through', async () => {
      const n = await applied();
      return n >= N * 0.05 ? n : undefined;
    }, 120_000, 20);
    await projection.kill();
    expect(atKill).toBeLessThan(N);

    await p.start('projection-service');
    await waitFor('every event applied after the restart', async () => ((await applied()) >= N ? true : undefined), 300_000, 200);

    const schema = p.schema('projection-service');
    const objects = (await p.admin.query(`SELECT count(*)::int AS n, min(version) AS lo, max(version) AS hi FROM "${schema}".mv_object`)).rows[0];
    expect(objects).toEqual({ n: N, lo: 1, hi: 1 });
    const perObject = (await p.admin.query(`SELECT count(*)::int AS n FROM "${schema}".mv_object_event GROUP BY mv_object_id HAVING count(*) > 1`)).rows;
    expect(perObject).toEqual([]);
    expect(await applied()).toBe(N);
    const uids = (await p.admin.query(`SELECT attributes->'uid'->>0 AS uid FROM "${schema}".mv_object`)).rows.map((r: { uid: string }) => r.uid).sort();
    expect(uids).toEqual(Array.from({ length: N }, (_, i) => `k${i}`).sort());
    const [{ stored }] = (await p.admin.query(`SELECT sum(next_offset)::int AS stored FROM "${schema}".consumer_offset WHERE topic LIKE '%mw.mv.events'`)).rows;
    expect(stored).toBe(N);
  });
});

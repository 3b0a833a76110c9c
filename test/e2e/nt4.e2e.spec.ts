import { SamrBridge, accountSid, sidFromString, type SamrDomain } from '@metaweave/samr';
import { samrStandIn, waitFor } from '@metaweave/testing';
import { Pipeline } from './harness';

jest.setTimeout(300_000);

interface MvObject {
  objectType: string;
  attributes: Record<string, unknown[]>;
  connectors: { connector: string; anchor: string; dn: string }[];
}

/**
 * The NT4 connector's full import over MS-SAMR (Samba's client library) into the metaverse:
 * fixed schema, SID anchors, and the next import carries renames, disables and deletes made
 * directly in the domain.
 */
describe('NT4 domain full import', () => {
  const p = new Pipeline();
  const names = ['a', 'b', 'c'].map((x) => `n${p.suffix}${x}`);
  let bridge: SamrBridge;
  let domain: SamrDomain;
  const rids: number[] = [];

  beforeAll(async () => {
    bridge = await SamrBridge.start();
    domain = await bridge.connect(samrStandIn(p.stack));
    for (const n of names) rids.push((await domain.createUser({ accountName: n, fields: { fullName: `Full ${n}`, description: 'e2e' } })).rid);
    await p.start('projection-service');
    // NT4 users without a mailbox stay disconnectors under the default rules; this test follows them
    // into the read model, so its rules project them (test/fixtures/rules/nt4-users-project.yaml).
    await p.start('join-engine', { MW_RULES_FILE: 'test/fixtures/rules/nt4-users-project.yaml' });
    await p.start('nt4-connector');
  });
  afterAll(async () => {
    for (const rid of rids) await domain.deleteUser(rid).catch(() => undefined);
    await bridge.close();
    await p.dispose();
  });

  const partition = () => p.stack['MW_SAMBA_DOMAIN']!.toUpperCase();
  const importDomain = async () => {
    const started = await p.json<{ runId: string }>('nt4-connector', '/api/v1/runs', { method: 'POST', body: { step: 'full-import', partition: partition() } });
    expect(started.status).toBe(202);
    return waitFor(
      'the NT4 full import',
      async () => {
        const r = (await p.json<{ status: string; counters: Record<string, number> }>('nt4-connector', `/api/v1/runs/${started.body.runId}`)).body;
        return r.status === 'running' ? undefined : r;
      },
      120_000,
      250,
    );
  };
  const person = async (accountName: string) =>
    (await p.json<{ objects: MvObject[] }>('projection-service', `/api/v1/objects?type=person&accountName=${accountName}`)).body.objects[0];

  it('imports the domain users with their SIDs as anchors', async () => {
    const run = await importDomain();
    expect(run).toMatchObject({ status: 'completed' });
    expect(run.counters['stageAdd']).toBeGreaterThanOrEqual(3);
    const a = await waitFor('the users in the read model', async () => (await person(names[0]!)) ?? undefined);
    const sid = accountSid(domain.description.domainSid, rids[0]!);
    expect(a.connectors[0]).toMatchObject({ anchor: sid, dn: `${partition()}\\${names[0]}` });
    expect(a.attributes['objectSid']).toEqual([{ b64: Buffer.from(sidFromString(sid)).toString('base64') }]);
    expect(a.attributes['fullName']).toEqual([`Full ${names[0]}`]);
  });

  it('carries a rename, a disable and a delete made directly in the domain', async () => {
    await domain.renameUser(rids[0]!, `${names[0]}r`).catch(async (e: Error) => {
      // The stand-in has no rename user script; then rename is refused (libs/samr README).
      if (!/ACCESS_DENIED/.test(e.message)) throw e;
    });
    await domain.updateUser(rids[1]!, { enabled: false });
    await domain.deleteUser(rids[2]!);
    const run = await importDomain();
    expect(run.counters).toMatchObject({ stageDelete: 1, stageFailure: 0 });
    await waitFor('the changes in the read model', async () => {
      const b = await person(names[1]!);
      const c = await person(names[2]!);
      const uac = Number(b?.attributes['userAccountControl']?.[0] ?? 0);
      return b && (uac & 0x2) === 0x2 && !c ? true : undefined;
    });
  });

  it('emits nothing when the domain did not change', async () => {
    const run = await importDomain();
    expect(run.counters).toMatchObject({ stageAdd: 0, stageUpdate: 0, stageRename: 0, stageDelete: 0 });
  });
});

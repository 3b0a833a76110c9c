import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess, waitFor } from '@metaweave/testing';
import { Pipeline, mailbox } from './harness';

jest.setTimeout(300_000);

interface Preview {
  rulesVersion: string;
  csObject: { state: string; mvObjectId: string | null } | null;
  trace: string[];
  exports: { connector: string; op: string; dn: string }[];
}

/**
 * The join engine as a process: a bad rules file stops it with exit 78 and the precise error; a
 * bad reload is refused while the running rules keep working; SIGHUP reloads; preview and full
 * synchronization over its API, with the Exchange connector feeding it.
 */
describe('join engine service: rules, preview, full synchronization', () => {
  const p = new Pipeline();
  const dir = mkdtempSync(join(tmpdir(), 'mw-je-e2e-'));
  const rulesFile = join(dir, 'rules.yaml');
  const defaults = readFileSync(join(__dirname, '..', '..', 'config', 'rules', 'default.yaml'), 'utf8');

  beforeAll(async () => {
    copyFileSync(join(__dirname, '..', '..', 'config', 'rules', 'default.yaml'), rulesFile);
  });
  afterAll(() => p.dispose());

  it('refuses to start on an invalid rules file, naming file, path and reason (exit 78)', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, defaults.replace('project: contact', 'project: kontakt'));
    const proc = new ServiceProcess({ name: 'join-engine', env: await p.env('join-engine', { MW_RULES_FILE: bad }) }).start();
    expect(await proc.waitExit()).toBe(78);
    expect(proc.logs).toContain(`MW_RULES_FILE: invalid rules file ${bad}: connectors.exchange.objectTypes.customRecipient.project: unknown metaverse object type 'kontakt'`);
  });

  it('previews, refuses a bad reload while the running rules keep working, reloads on SIGHUP, and fully synchronizes', async () => {
    await p.start('join-engine', { MW_RULES_FILE: rulesFile });
    await p.start('exchange-connector');
    const rules = async () => (await p.json<{ version: string }>('join-engine', '/api/v1/rules')).body.version;
    const v1 = await rules();

    // pb has no NT account (Assoc-NT-Account empty): the default rules provision one.
    const pb: Record<string, string | string[] | Buffer> = { ...mailbox('pb', 3102)[1], department: 'Sales' };
    delete pb['Assoc-NT-Account'];
    await p.addRecipients([mailbox('pa', 3101), ['pb', pb]]);
    await p.fullImport();
    const anchors = await waitFor('both mailboxes in the join engine', async () => {
      const rows = (await p.admin.query(`SELECT anchor, attributes->'uid'->>0 AS uid FROM "${p.schema('join-engine')}".cs_link WHERE state = 'normal'`)).rows;
      return rows.length === 2 ? Object.fromEntries(rows.map((r) => [r.uid, r.anchor as string])) : undefined;
    });

    // Preview of the mailbox without an NT account: joined, and the NT4 account it would provision.
    const preview = await p.json<Preview>('join-engine', `/api/v1/preview/exchange/${anchors['pb']}`);
    expect(preview.status).toBe(200);
    expect(preview.body.rulesVersion).toBe(v1);
    expect(preview.body.csObject).toMatchObject({ state: 'normal' });
    expect(preview.body.trace.join('\n')).toMatch(/connector filter passes/);
    expect((await p.json('join-engine', '/api/v1/preview/exchange/no-such-anchor')).status).toBe(404);

    // A broken rules file: refused with the precise error; the running version stays and keeps working.
    writeFileSync(rulesFile, defaults.replace('deprovision: disconnector', 'deprovision: vanish'));
    const refused = await p.json<{ message: string; runningVersion: string }>('join-engine', '/api/v1/rules/reload', { method: 'POST', body: {} });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toMatch(new RegExp(`invalid rules file ${rulesFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: connectors\\.exchange\\.deprovision: `));
    expect(await rules()).toBe(v1);
    await p.addRecipients([mailbox('pc', 3103)]);
    await p.fullImport();
    await waitFor('pc synchronized under the running rules', async () => {
      const rows = (await p.admin.query(`SELECT count(*)::int AS n FROM "${p.schema('join-engine')}".cs_link WHERE state = 'normal'`)).rows;
      return rows[0].n === 3 ? true : undefined;
    });

    // A valid change, loaded by SIGHUP, then a full synchronization: only the object with a department changes.
    writeFileSync(rulesFile, defaults.replace('          - { mv: site, from: $partition }', '          - { mv: site, from: $partition }\n          - { mv: costCenter, from: department, transform: upper }'));
    const { pid } = (await p.json<{ pid: number }>('join-engine', '/health/live')).body;
    process.kill(pid, 'SIGHUP');
    const v2 = await waitFor('the reloaded rules', async () => {
      const v = await rules();
      return v !== v1 ? v : undefined;
    });
    const events = `"${p.schema('join-engine')}".mv_event`;
    const before = (await p.admin.query(`SELECT count(*)::int AS n FROM ${events}`)).rows[0].n;
    const started = await p.json<{ runId: string }>('join-engine', '/api/v1/sync/full', { method: 'POST', body: { connector: 'exchange' } });
    expect(started.status).toBe(202);
    const run = await waitFor('the full synchronization', async () => {
      const r = (await p.json<{ status: string; objects: number }>('join-engine', `/api/v1/sync/runs/${started.body.runId}`)).body;
      return r.status === 'running' ? undefined : r;
    });
    expect(run).toMatchObject({ status: 'completed', objects: 3 });
    const changed = (await p.admin.query(`SELECT data FROM ${events} ORDER BY recorded_at OFFSET $1`, [before])).rows.map((r) => r.data);
    expect(changed.map((d) => [d.attributes.uid[0], d.attributes.costCenter, d.reason, d.rulesVersion])).toEqual([['pb', ['SALES'], 'full-sync', v2]]);
    expect((await p.json('join-engine', '/api/v1/sync/full', { method: 'POST', body: { connector: 'nope' } })).status).toBe(400);
  });
});

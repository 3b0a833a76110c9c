import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TokenVerifier } from '@metaweave/auth';
import { EnvelopeFactory, type Message } from '@metaweave/contracts';
import { sidFromString } from '@metaweave/samr';
import { waitFor } from '@metaweave/testing';
import { ProjectionUnderTest } from '../../projection-service/src/int-support';

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..', '..');
const run = promisify(execFile);
const SID = 'S-1-5-21-1144201745-2289526357-3433806489-1107';
const AT = '2026-11-23T12:00:00.000Z';

/**
 * The `mw` query commands (built to dist/, as operators run them) against a real projection
 * service on the real Kafka and PostgreSQL: search by SID string, show with lineage, runs,
 * checksum, rebuild, tokens; exit codes that say what went wrong.
 */
describe('mw query commands', () => {
  const p = new ProjectionUnderTest();
  const dataDir = mkdtempSync(join(tmpdir(), 'mw-cli-'));
  let token: string;
  const person = randomUUID();

  const mw = async (...args: string[]) => {
    try {
      const r = await run(process.execPath, ['-r', join(ROOT, 'tools', 'bin', 'register-paths.cjs'), join(ROOT, 'dist', 'apps', 'mw', 'src', 'main.js'), ...args], {
        cwd: ROOT,
        env: { PATH: process.env['PATH'] ?? '', MW_SERVICES_PORT_BASE: String(p.port - 5), MW_DATA_DIR: dataDir, MW_TOKEN: token },
        timeout: 120_000,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };

  beforeAll(async () => {
    await p.start();
    token = await p.token(['admins'], 'cli-test');
    const factory = new EnvelopeFactory({ source: 'join-engine' });
    const joined: Message<'mv.object.changed'> = factory.create({
      type: 'mv.object.changed',
      schemaVersion: 2,
      data: {
        mvObjectId: person,
        objectType: 'person',
        version: 2,
        change: 'updated',
        attributes: { uid: ['jsmith'], sid: [{ b64: sidFromString(SID).toString('base64') }], ntAccount: ['CONTOSO\\jsmith'] },
        connectors: [
          { connector: 'exchange', anchor: 'ex-jsmith', dn: 'cn=jsmith,cn=Recipients,ou=SiteA,o=Contoso', state: 'connected' },
          { connector: 'nt4-contoso', anchor: SID, dn: 'CONTOSO\\jsmith', state: 'connected' },
        ],
        lineage: [
          { attribute: 'uid', connector: 'exchange', anchor: 'ex-jsmith', flow: 'exchange/mailbox/uid', rulesVersion: 'r7', at: AT },
          { attribute: 'sid', connector: 'exchange', anchor: 'ex-jsmith', flow: 'exchange/mailbox/sid', rulesVersion: 'r7', at: AT },
          { attribute: 'ntAccount', connector: 'nt4-contoso', anchor: SID, flow: 'nt4-contoso/user/ntAccount', rulesVersion: 'r7', at: AT },
        ],
        rulesVersion: 'r7',
        cause: { connector: 'nt4-contoso', anchor: SID, csVersion: 1 },
        reason: 'join',
      },
    });
    const runEvent: Message<'run.event'> = factory.create({
      type: 'run.event',
      schemaVersion: 1,
      data: {
        runId: randomUUID(),
        connector: 'nt4-contoso',
        partition: 'CONTOSO',
        step: 'full-import',
        status: 'completed',
        sequence: 2,
        startedAt: AT,
        endedAt: AT,
        counters: { stageAdd: 12 },
        errors: [],
        message: null,
      },
    });
    await p.publish('mvEvents', [{ key: person, message: joined }]);
    await p.publish('runEvents', [{ key: 'nt4-contoso/CONTOSO', message: runEvent }]);
    await waitFor('the person and the run in the read model', async () => {
      const [{ n }] = await p.query<{ n: number }>(`SELECT (SELECT count(*) FROM "${p.schema}".mv_object) + (SELECT count(*) FROM "${p.schema}".run) AS n`);
      return Number(n) === 2 ? true : undefined;
    }, 60_000, 100);
  });
  afterAll(() => p.dispose());

  it('mw mv search --type person --attr sid=<SID string> --json returns the joined person with both connectors and the lineage of ntAccount', async () => {
    const r = await mw('mv', 'search', '--type', 'person', '--attr', `sid=${SID}`, '--json');
    expect(r.code).toBe(0);
    const objects = JSON.parse(r.stdout) as { id: string; connectors: { connector: string }[]; lineage: { attribute: string; connector: string; flow: string }[] }[];
    expect(objects.map((o) => o.id)).toEqual([person]);
    expect(objects[0]!.connectors.map((c) => c.connector)).toEqual(['exchange', 'nt4-contoso']);
    expect(objects[0]!.lineage.filter((l) => l.attribute === 'ntAccount')).toEqual([expect.objectContaining({ connector: 'nt4-contoso', flow: 'nt4-contoso/user/ntAccount' })]);
  });

  it('mw mv show prints the attributes with where they came from', async () => {
    const r = await mw('mv', 'show', person);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ntAccount\s+CONTOSO\\jsmith\s+nt4-contoso \(nt4-contoso\/user\/ntAccount\)\s+r7/);
    expect(r.stdout).toMatch(/exchange\s+ex-jsmith/);
  });

  it('mw runs lists the run history across connectors', async () => {
    const r = await mw('runs', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ connector: 'nt4-contoso', step: 'full-import', status: 'completed', counters: { stageAdd: 12 } })]);
    const table = await mw('runs');
    expect(table.stdout).toMatch(/nt4-contoso\s+CONTOSO\s+full-import\s+completed/);
  });

  it('mw projection checksum and rebuild agree', async () => {
    const before = JSON.parse((await mw('projection', 'checksum', '--json')).stdout) as { checksum: string };
    const r = await mw('projection', 'rebuild', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ equal: true, rebuilt: { checksum: before.checksum } });
    const after = await mw('projection', 'checksum');
    expect(after.stdout).toContain(before.checksum);
  });

  it('exits with a code that says what went wrong', async () => {
    expect((await mw('mv', 'show', randomUUID())).code).toBe(3);
    const bad = await mw('mv', 'search', '--limit', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/limit/);
    token = await p.token(['password-set']);
    const refused = await mw('runs');
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/needs the role browse/);
    token = await p.token(['admins']);
  });

  it('mw token prints a dev token for the requested roles, signed with a key kept under the data dir', async () => {
    const r = await mw('token', '--role', 'operators', '--role', 'browse');
    expect(r.code).toBe(0);
    const pub = readFileSync(join(dataDir, 'auth', 'dev-signing-key.pub.pem'), 'utf8');
    const principal = await new TokenVerifier({ publicKeysPem: [pub], issuer: 'metaweave', audience: 'metaweave' }).verify(r.stdout.trim());
    expect(principal.roles).toEqual(['operators', 'browse']);
    expect(statSync(join(dataDir, 'auth', 'dev-signing-key.pem')).mode & 0o077).toBe(0);
    expect((await mw('token', '--role', 'root')).code).toBe(2);
    expect(existsSync(join(dataDir, 'auth'))).toBe(true);
  });
});

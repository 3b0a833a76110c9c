import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { generateSigningKeyPair, TokenIssuer, type Role } from '@metaweave/auth';
import { EnvelopeFactory, TOPICS, type Message, type MvObjectChangedV2, type RunEventV1 } from '@metaweave/contracts';
import { createKafka, MessageProducer, parseBrokers } from '@metaweave/messaging';
import { accountSid, sidFromString } from '@metaweave/samr';
import { REPO_ROOT, waitFor } from '@metaweave/testing';
import { Pipeline, mailbox } from './harness';

jest.setTimeout(600_000);

/**
 * The operations console in headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against a real pipeline: the Exchange connector, the join engine and the projection service with
 * its query API on the shared stack, plus MV and run events published to this pipeline's topics for
 * what the engine on this branch does not produce yet (per-value lineage from two connectors, a
 * run holding deletes, per-object errors). Screenshots of every page go to
 * `.mw/console-screenshots/` (MW_CONSOLE_SCREENSHOTS overrides); axe-core checks every page.
 */
const CHROMIUM = process.env['MW_CHROMIUM'] ?? '/usr/bin/chromium';
const QUERY_API = join(REPO_ROOT, 'apps', 'projection-service', 'src', 'api', 'history.controller.ts');
const ready = existsSync(CHROMIUM) && existsSync(QUERY_API);
const why = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set MW_CHROMIUM)` : 'the query API of issue 6 (projection-service runs/held-deletes) is not in this tree';
const SHOTS = process.env['MW_CONSOLE_SCREENSHOTS'] ?? join(REPO_ROOT, '.mw', 'console-screenshots');

(ready ? describe : describe.skip)(`operations console in Chromium${ready ? '' : ` — skipped: ${why}`}`, () => {
  const p = new Pipeline();
  const keys = generateSigningKeyPair();
  const issuer = new TokenIssuer(keys.privateKeyPem, 'metaweave', 'metaweave');
  const token = (roles: Role[], subject = 'console-e2e') => issuer.issue(subject, roles);
  const domainSid = p.stack['MW_SAMBA_DOMAIN_SID']!;
  const PERSON = randomUUID();
  const personSid = accountSid(domainSid, 77_001);
  const HELD_RUN = randomUUID();
  const ERROR_RUN = randomUUID();
  const nt4 = 'nt4-contoso';
  let consoleServer: ChildProcess;
  let consoleUrl = '';
  let browser: Browser;
  const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

  const producer = new MessageProducer({ kafka: createKafka({ brokers: parseBrokers(p.stack['KAFKA_BROKERS']!), clientId: 'console-e2e' }) });
  const envelopes = new EnvelopeFactory({ source: 'console-e2e' });
  const LIVE_RUN = randomUUID();

  function runEvent(runId: string, over: Partial<RunEventV1>): { key: string; message: Message<'run.event'> } {
    const data: RunEventV1 = {
      runId,
      connector: nt4,
      partition: 'CONTOSO',
      step: 'full-import',
      status: 'completed',
      sequence: 3,
      startedAt: new Date(Date.now() - 60_000).toISOString(),
      endedAt: new Date().toISOString(),
      counters: {},
      errors: [],
      message: null,
      ...over,
    };
    return { key: `${nt4}/CONTOSO`, message: envelopes.create({ type: 'run.event', schemaVersion: 1, data }) as Message<'run.event'> };
  }

  async function seed(): Promise<void> {
    await producer.connect();
    const at = new Date().toISOString();
    const rules = 'a1b2c3d4e5f6a7b8c9d0';
    const mv: MvObjectChangedV2 = {
      mvObjectId: PERSON,
      objectType: 'person',
      version: 1,
      change: 'projected',
      attributes: {
        displayName: ['Jane Smith'],
        uid: ['jsmith'],
        mail: ['jsmith@contoso.com'],
        sid: [{ b64: sidFromString(personSid).toString('base64') }],
        ntAccount: ['CONTOSO\\jsmith'],
      },
      connectors: [
        { connector: 'exchange', anchor: 'c0ffee00-0000-4000-8000-000000000001', dn: `cn=jsmith,cn=Recipients,ou=${p.site},o=Contoso`, state: 'connected' },
        { connector: nt4, anchor: personSid, dn: 'CONTOSO\\jsmith', state: 'connected' },
      ],
      lineage: [
        ...['displayName', 'uid', 'mail', 'sid'].map((attribute) => ({ attribute, connector: 'exchange', anchor: 'c0ffee00-0000-4000-8000-000000000001', flow: `exchange/mailbox/${attribute}`, rulesVersion: rules, at })),
        { attribute: 'ntAccount', connector: nt4, anchor: personSid, flow: `${nt4}/user/ntAccount`, rulesVersion: rules, at },
      ],
      rulesVersion: rules,
      cause: { connector: nt4, anchor: personSid, csVersion: 1 },
      reason: 'join',
    };
    await producer.send(p.topicPrefix + TOPICS.mvEvents.name, [{ key: PERSON, message: envelopes.create({ type: 'mv.object.changed', schemaVersion: 2, data: mv }) as Message<'mv.object.changed'> }]);
    await producer.send(p.topicPrefix + TOPICS.runEvents.name, [
      runEvent(HELD_RUN, { status: 'held', endedAt: null, counters: { stageNoChange: 180, stageDelete: 42, heldDeletes: 42 }, message: '42 deletes exceed the threshold of 10 (20%): approve to let them go ahead' }),
      runEvent(ERROR_RUN, {
        status: 'completed-with-errors',
        startedAt: new Date(Date.now() - 3_600_000).toISOString(),
        endedAt: new Date(Date.now() - 3_590_000).toISOString(),
        counters: { stageAdd: 3, stageUpdate: 1, errors: 1 },
        errors: [{ anchor: accountSid(domainSid, 77_002), dn: 'CONTOSO\\broken', type: 'invalid-sid', message: 'objectSid is not a SID of domain CONTOSO', firstOccurred: new Date(Date.now() - 86_400_000).toISOString(), retryCount: 3 }],
      }),
    ]);
  }

  async function startConsole(): Promise<void> {
    // Always from the sources under test (a stale dist/console would test an older console).
    execFileSync('npm', ['run', '--silent', 'console:build'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    consoleServer = spawn(process.execPath, [join(REPO_ROOT, 'apps', 'console', 'server', 'serve.mjs')], {
      env: { PATH: process.env['PATH'] ?? '', MW_CONSOLE_PORT: '0', MW_CONSOLE_PROJECTION_URL: p.url('projection-service', '') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    consoleUrl = await new Promise<string>((resolve, reject) => {
      consoleServer.stdout!.on('data', (c: Buffer) => {
        const m = /"url":"([^"]+)"/.exec(c.toString());
        if (m) resolve(m[1]!.replace(/\/$/, ''));
      });
      consoleServer.once('exit', (code) => reject(new Error(`console server exited with ${code}`)));
    });
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const auth = { MW_AUTH_PUBLIC_KEYS: keys.publicKeyPem };
    await p.start('exchange-connector', auth);
    await p.start('join-engine', auth);
    await p.start('projection-service', {
      ...auth,
      MW_CONNECTOR_URLS: `exchange=${p.url('exchange-connector', '')}`,
      MW_JOIN_ENGINE_URL: p.url('join-engine', ''),
    });
    await p.addRecipients([mailbox('amiller', 77_010), mailbox('bwhite', 77_011), mailbox('cjones', 77_012)]);
    await seed();
    await startConsole();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  });

  afterAll(async () => {
    await producer.disconnect().catch(() => undefined);
    await browser?.close();
    consoleServer?.kill('SIGTERM');
    await p.dispose();
  });

  async function login(roles: Role[], width = 1366): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 }, bypassCSP: true });
    await page.goto(consoleUrl);
    await page.getByLabel('Bearer token').fill(await token(roles));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    return page;
  }

  /**
   * No serious or critical axe-core violation on the page as it is now. (Pages open with
   * `bypassCSP` only so that axe can be injected: the console's CSP forbids inline scripts.)
   */
  async function accessible(page: Page, name: string): Promise<void> {
    await page.addScriptTag({ content: axeSource });
    const violations = await page.evaluate(async () => {
      const r = await (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run();
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
    expect({ page: name, violations }).toEqual({ page: name, violations: [] });
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }

  it('log in, find a person by SID, open its lineage', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 }, bypassCSP: true });
    await page.goto(consoleUrl);
    await shot(page, '01-login');
    await accessible(page, 'login');
    await page.close();

    const admin = await login(['admins']);
    await admin.getByLabel('Value of attribute 1').fill(personSid);
    await admin.getByRole('button', { name: 'Search' }).click();
    const link = admin.getByRole('link', { name: 'Jane Smith' });
    await waitFor(
      'the seeded person in the read model',
      async () => {
        if ((await link.count()) > 0) return true;
        await admin.getByRole('button', { name: 'Search' }).click(); // search again
        return undefined;
      },
      60_000,
      1000,
    );
    expect(admin.url()).toContain(`#/search?type=person&attr=sid%3D${personSid}`);
    await shot(admin, '02-search');
    await accessible(admin, 'search');

    await link.click();
    const ntAccount = admin.locator('#attr-ntAccount');
    await ntAccount.waitFor();
    expect(await ntAccount.innerText()).toContain('CONTOSO\\jsmith');
    expect(await ntAccount.innerText()).toContain(nt4);
    expect(await ntAccount.innerText()).toContain(`${nt4}/user/ntAccount`);
    expect(await admin.locator('#attr-sid').innerText()).toContain(personSid); // binary SID shown in its string form
    expect(admin.url()).toContain(`#/objects/${PERSON}`);
    await shot(admin, '03-object-lineage');
    await accessible(admin, 'object');

    const narrow = await login(['browse'], 390);
    await narrow.goto(`${consoleUrl}/#/objects/${PERSON}`);
    await narrow.locator('#attr-ntAccount').waitFor();
    await shot(narrow, '04-object-narrow');
    await narrow.close();
    await admin.close();
  });

  it('a run in progress: its counters update on the page as the run events arrive, without a reload', async () => {
    const page = await login(['browse']);
    const runs = p.topicPrefix + TOPICS.runEvents.name;
    const startedAt = new Date(Date.now() - 5_000).toISOString();
    await producer.send(runs, [runEvent(LIVE_RUN, { status: 'running', sequence: 1, startedAt, endedAt: null, counters: { stageAdd: 10 } })]);
    await page.goto(`${consoleUrl}/#/runs/${LIVE_RUN}`);
    const counters = page.locator('.counter-table');
    await waitFor('the first counters', async () => ((await counters.count()) && /stage-add\s+10\b/.test(await counters.innerText()) ? true : undefined), 60_000, 250);
    await producer.send(runs, [runEvent(LIVE_RUN, { status: 'running', sequence: 2, startedAt, endedAt: null, counters: { stageAdd: 25, stageUpdate: 2 } })]);
    await waitFor('the counters to move', async () => (/stage-add\s+25\b/.test(await counters.innerText()) ? true : undefined), 60_000, 250);
    await shot(page, '05-run-live');
    await producer.send(runs, [runEvent(LIVE_RUN, { status: 'completed', sequence: 3, startedAt, endedAt: new Date().toISOString(), counters: { stageAdd: 40, stageUpdate: 2 } })]);
    await waitFor('the run to complete', async () => ((await page.getByRole('heading', { name: /completed/ }).count()) > 0 ? true : undefined), 60_000, 250);
    expect(await counters.innerText()).toMatch(/stage-add\s+40\b/);
    await accessible(page, 'run');

    await page.getByRole('link', { name: 'Operations' }).click();
    await page.locator('table.runs').waitFor();
    expect(await page.locator('table.runs').innerText()).toContain(`${nt4} / CONTOSO`);
    await shot(page, '06-operations');
    await accessible(page, 'operations');

    await page.goto(`${consoleUrl}/#/runs/${ERROR_RUN}`);
    await page.getByRole('cell', { name: 'invalid-sid' }).waitFor();
    expect(await page.locator('section[aria-labelledby="errors"]').innerText()).toMatch(/CONTOSO\\broken[\s\S]*invalid-sid[\s\S]*3/);
    await shot(page, '07-run-errors');
    await page.close();
  });

  it('an operator starts an Exchange full import from Operations: the query API forwards it and the connector runs it', async () => {
    const page = await login(['operators', 'browse']);
    await page.getByRole('link', { name: 'Operations' }).click();
    await page.getByLabel('Connector / partition').fill(`exchange/${p.site}`);
    await page.getByLabel('Step').selectOption('full-import');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/);
    const runId = page.url().split('/').pop()!;
    const run = await waitFor(
      'the connector to finish the run the console started',
      async () => {
        const r = await p.json<{ status: string; counters: Record<string, number> }>('exchange-connector', `/api/v1/runs/${runId}`);
        return r.status === 200 && r.body.status !== 'running' ? r.body : undefined;
      },
      120_000,
      500,
    );
    expect(run.counters).toMatchObject({ stageAdd: 3 });
    await page.close();
  });

  it('held deletes: approve is disabled without admins and the API refuses it; admins may press it', async () => {
    const operator = await login(['operators', 'browse']);
    await operator.getByRole('link', { name: 'Operations' }).click();
    const held = operator.getByText('42 deletes', { exact: true });
    await held.waitFor({ timeout: 60_000 });
    const approve = operator.getByRole('button', { name: /Approve/ });
    expect(await approve.isDisabled()).toBe(true);
    expect(await approve.innerText()).toContain('needs the admins role');
    // The server refuses the same call from this token, whatever the page shows.
    const refused = await fetch(`${consoleUrl}/projection/api/v1/held-deletes/${HELD_RUN}/approve`, { method: 'POST', headers: { authorization: `Bearer ${await token(['operators', 'browse'])}`, 'content-type': 'application/json' }, body: '{}' });
    expect(refused.status).toBe(403);
    await operator.close();

    const admin = await login(['admins']);
    await admin.getByRole('link', { name: 'Operations' }).click();
    await admin.getByText('42 deletes', { exact: true }).waitFor();
    const adminApprove = admin.getByRole('button', { name: 'Approve' });
    expect(await adminApprove.isEnabled()).toBe(true);
    await adminApprove.click(); // asks first, naming how many deletes go
    await admin.getByRole('button', { name: 'Yes, delete 42' }).waitFor();
    await shot(admin, '08-held-deletes');
    await accessible(admin, 'held deletes confirmation');
    await admin.close();
  });

  it('a browse-only user cannot start a run: disabled in the page, 403 from the API', async () => {
    const page = await login(['browse']);
    await page.getByRole('link', { name: 'Operations' }).click();
    const start = page.getByRole('button', { name: /Start run/ });
    expect(await start.isDisabled()).toBe(true);
    const refused = await fetch(`${consoleUrl}/projection/api/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token(['browse'])}`, 'content-type': 'application/json' },
      body: JSON.stringify({ connector: 'exchange', partition: p.site, step: 'delta-import' }),
    });
    expect(refused.status).toBe(403);
    await page.close();
  });

  it('connectors, connector space, preview and passwords pages render and are accessible', async () => {
    const page = await login(['admins']);
    await page.getByRole('link', { name: 'Connectors' }).click();
    await page.getByRole('heading', { name: `${nt4} / CONTOSO` }).waitFor();
    await shot(page, '09-connectors');
    await accessible(page, 'connectors');

    await page.goto(`${consoleUrl}/#/cs/${nt4}/${personSid}`);
    await page.getByRole('link', { name: 'Jane Smith' }).waitFor();
    await shot(page, '10-connector-space');
    await accessible(page, 'connector space');

    await page.goto(`${consoleUrl}/#/preview/${nt4}/${personSid}`);
    // The join engine of this branch has no preview endpoint yet: the page must say so plainly.
    await page.locator('#preview-result').locator('xpath=..').getByText(/.+/).first().waitFor();
    await waitFor('the preview answer or its error', async () => ((await page.locator('#preview-result').locator('xpath=..').locator('.state.loading').count()) === 0 ? true : undefined), 30_000, 250);
    await shot(page, '11-preview');
    await accessible(page, 'preview');

    await page.goto(`${consoleUrl}/#/passwords?person=${PERSON}`);
    await page.getByLabel('New password', { exact: true }).waitFor();
    expect(await page.getByLabel('New password', { exact: true }).getAttribute('type')).toBe('password');
    await shot(page, '12-passwords');
    await accessible(page, 'passwords');
    await page.close();
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SamrBridge, type SamrDomain } from '@metaweave/samr';
import { OtlpReceiver, type ReceivedSpan, REPO_ROOT, samrStandIn, waitFor } from '@metaweave/testing';
import { Attribute, Change } from 'ldapts';
import YAML from 'yaml';
import { Pipeline, mailbox, type ServiceName } from './harness';

jest.setTimeout(600_000);

const ALL: ServiceName[] = ['projection-service', 'password-service', 'join-engine', 'nt4-connector', 'exchange-connector'];

/**
 * Issue 9's trace test: every service exports spans over OTLP/HTTP (MW_OTEL_EXPORTER=otlp), as in
 * production, to a real OTLP endpoint in the test. One LDAP modify in the Exchange stand-in is ONE
 * trace across the Exchange connector, the join engine, the NT4 connector (export applied through
 * SAMR), the projection service and the password service (its routing view consumes the same MV
 * event); a password set is one trace from the password API call to the NT4 connector's SAMR call,
 * and no span attribute anywhere carries the password.
 */
describe('one trace per change across the five services, exported over OTLP', () => {
  const p = new Pipeline();
  const receiver = new OtlpReceiver();
  const alias = `trc${p.suffix}`;
  const password = `Tr4ce-${p.suffix}-Pw!`;
  let bridge: SamrBridge;
  let domain: SamrDomain;
  let rid = 0;
  let personId = '';

  beforeAll(async () => {
    await receiver.start();
    bridge = await SamrBridge.start();
    domain = await bridge.connect(samrStandIn(p.stack));
    rid = (await domain.createUser({ accountName: alias, password: `Init-${p.suffix}-1!` })).rid;

    // The default rules plus one export flow, so an attribute edit in Exchange reaches NT4.
    const rules = YAML.parse(readFileSync(join(REPO_ROOT, 'config', 'rules', 'default.yaml'), 'utf8'));
    rules.connectors[p.nt4Connector].objectTypes.user.exportFlows.push({ cs: 'description', from: 'department' });
    const rulesFile = join(mkdtempSync(join(tmpdir(), 'mw-rules-')), 'rules.yaml');
    writeFileSync(rulesFile, YAML.stringify(rules));

    const otlp = { MW_OTEL_EXPORTER: 'otlp', MW_OTEL_ENDPOINT: receiver.url };
    for (const s of ALL) await p.start(s, { ...otlp, ...(s === 'join-engine' ? { MW_RULES_FILE: rulesFile } : {}) });
  });
  afterAll(async () => {
    await p.dispose();
    await domain?.deleteUser(rid).catch(() => undefined);
    await bridge?.close();
    await receiver.stop();
  });

  const spansOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);
  const orphans = (spans: ReceivedSpan[]) => {
    const ids = new Set(spans.map((s) => s.spanId));
    return spans.filter((s) => s.parentSpanId !== null && !ids.has(s.parentSpanId)).map((s) => `${s.service}:${s.name}`);
  };

  it('joins the mailbox and the NT4 account of one person', async () => {
    await p.addRecipients([mailbox(alias, rid, { department: 'Before' })]);
    expect((await p.fullImport()).counters).toMatchObject({ stageAdd: 1 });
    const started = await p.json<{ runId: string }>('nt4-connector', '/api/v1/runs', { method: 'POST', body: { step: 'full-import', partition: p.stack['MW_SAMBA_DOMAIN'] } });
    expect(started.status).toBe(202);
    personId = await waitFor(
      'the person joined to both connectors in the read model',
      async () => {
        const { body } = await p.json<{ objects: { id: string; connectors: { connector: string }[] }[] }>('projection-service', `/api/v1/objects?type=person&uid=${alias}`);
        const person = body.objects?.[0];
        return person && person.connectors.some((c) => c.connector === p.nt4Connector) ? person.id : undefined;
      },
      240_000,
      500,
    );
  });

  it('an LDAP modify is one trace: Exchange connector → join engine → NT4 export, read model, password routing', async () => {
    const client = await p.ldap();
    try {
      await client.modify(`cn=${alias},cn=Recipients,ou=${p.site},${p.stack['MW_LDAP_BASE_DN']}`, [
        new Change({ operation: 'replace', modification: new Attribute({ type: 'department', values: ['After'] }) }),
      ]);
    } finally {
      await client.unbind();
    }
    expect((await p.fullImport('delta-import')).counters).toMatchObject({ stageUpdate: 1 });
    // The export really reached the NT4 domain.
    await waitFor('the NT4 account description to follow', async () => ((await domain.getUser(rid)).description === 'After' ? true : undefined), 120_000, 500);

    const traceId = await waitFor(
      'one trace with spans of all five services',
      () => {
        for (const root of receiver.spans.filter((s) => s.service === 'exchange-connector' && s.name === 'cs.update')) {
          const services = receiver.servicesOf(root.traceId);
          if (ALL.every((s) => services.has(s))) return root.traceId;
        }
        return undefined;
      },
      120_000,
      500,
    );
    const spans = spansOf(traceId);
    expect(orphans(spans)).toEqual([]);
    // The NT4 connector's part includes the SAMR call that applied the export.
    expect(spans.some((s) => s.service === 'nt4-connector' && s.name.startsWith('samr ') && s.attributes['rpc.system'] === 'dce_rpc')).toBe(true);
  });

  it('a password set is one trace from the API call to the SAMR call, with no secret in any span', async () => {
    const token = await p.token(['password-set']);
    const res = await fetch(p.url('password-service', `/api/v1/persons/${personId}/password`), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ newPassword: password }),
    });
    expect(res.status).toBe(202);
    const { operationId } = (await res.json()) as { operationId: string };
    const op = await waitFor(
      'the operation to finish',
      async () => {
        const { body } = await p.json<{ status: string; targets: { result: string | null }[] }>('password-service', `/api/v1/operations/${operationId}`);
        return body.status === 'pending' ? undefined : body;
      },
      120_000,
      500,
    );
    expect(op).toMatchObject({ status: 'succeeded', targets: [{ result: 'success' }] });
    expect(await domain.verifyLogon(alias, password)).toMatchObject({ ok: true });

    const traceId = await waitFor(
      'the trace of the password set',
      () => {
        const api = receiver.spans.find(
          (s) => s.service === 'password-service' && s.kind === 2 /* SERVER */ && String(s.attributes['http.target'] ?? s.attributes['url.path'] ?? '').endsWith(`/persons/${personId}/password`),
        );
        if (!api) return undefined;
        const spans = spansOf(api.traceId);
        return spans.some((s) => s.service === 'nt4-connector' && /^samr setPassword/.test(s.name)) ? api.traceId : undefined;
      },
      120_000,
      500,
    ).catch((e) => {
      const summary = receiver.spans
        .filter((s) => (s.service === 'password-service' || s.service === 'nt4-connector') && !s.name.startsWith('pg.'))
        .map((s) => `${s.service} ${s.traceId.slice(0, 8)} ${s.kind} ${s.name} ${JSON.stringify(s.attributes['http.route'] ?? '')}`);
      throw new Error(`${(e as Error).message}\n${summary.slice(-200).join('\n')}`);
    });
    expect(orphans(spansOf(traceId))).toEqual([]);
    // No span of any service, in any attribute or name, carries the password.
    const everything = JSON.stringify(receiver.spans);
    expect(everything.includes(password)).toBe(false);
    expect(everything.includes(Buffer.from(password).toString('base64'))).toBe(false);
    expect(receiver.rejected).toEqual([]);
  });
});

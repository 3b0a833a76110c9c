import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { generateSigningKeyPair, TokenIssuer } from '@metaweave/auth';
import { deadLetterTopic, EnvelopeFactory, TOPICS, type Message, type MessageType, type MessageTypes, type MvObjectChangedV2, type RunEventV1 } from '@metaweave/contracts';
import { sidFromString } from '@metaweave/samr';
import { freePort, waitFor } from '@metaweave/testing';
import { ProjectionUnderTest } from './int-support';

jest.setTimeout(300_000);

const SID = (rid: number) => `S-1-5-21-1144201745-2289526357-3433806489-${rid}`;
const AT = '2026-11-23T12:00:00.000Z';
const factory = new EnvelopeFactory({ source: 'int-test' });
function msg<T extends MessageType>(type: T, data: MessageTypes[T], schemaVersion = 1): Message<T> {
  return factory.create({ type, schemaVersion, data }) as Message<T>;
}

interface Stub {
  server: Server;
  url: string;
  requests: { method: string; url: string; auth: string | undefined; body: string }[];
}

/** A connector's / the join engine's HTTP API standing in for forwarded calls: records what it received. */
async function stubApi(status: number, reply: unknown): Promise<Stub> {
  const requests: Stub['requests'] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${port}`, requests };
}

describe('projection service: read model, replay and query API on real Kafka and PostgreSQL', () => {
  let exchangeStub: Stub;
  let joinStub: Stub;
  let p: ProjectionUnderTest;
  let closedPort: number;

  beforeAll(async () => {
    exchangeStub = await stubApi(202, { runId: '11111111-2222-4333-8444-555555555555', step: 'full-import', partition: 'SiteA' });
    joinStub = await stubApi(200, { approved: true });
    closedPort = await freePort();
    p = new ProjectionUnderTest({
      MW_CONNECTOR_URLS: `exchange=${exchangeStub.url},nt4=http://127.0.0.1:${closedPort}`,
      MW_JOIN_ENGINE_URL: joinStub.url,
      MW_PROJECTION_BATCH_SIZE: '200',
    });
    await p.start();
  });
  afterAll(async () => {
    await p.dispose();
    exchangeStub.server.close();
    joinStub.server.close();
  });

  const people = Array.from({ length: 300 }, (_, i) => ({ id: randomUUID(), i }));
  const group = randomUUID();

  function person(o: { id: string; i: number }, version: number, extra: Partial<MvObjectChangedV2> = {}): Message<'mv.object.changed'> {
    const exchangeAnchor = `ex-${o.i}`;
    return msg(
      'mv.object.changed',
      {
        mvObjectId: o.id,
        objectType: 'person',
        version,
        change: version === 1 ? 'projected' : 'updated',
        attributes: {
          uid: [`u${o.i}`],
          sid: [{ b64: sidFromString(SID(5000 + o.i)).toString('base64') }],
          ntAccount: [`CONTOSO\\u${o.i}`],
          proxyAddresses: [`SMTP:u${o.i}@contoso.com`, `smtp:u${o.i}@old.contoso.com`],
          mailboxSize: [100 * version],
          enabled: [true],
          title: [`title v${version}`],
        },
        connectors: [
          { connector: 'exchange', anchor: exchangeAnchor, dn: `cn=u${o.i},cn=Recipients,ou=SiteA,o=Contoso`, state: 'connected' },
          { connector: 'nt4', anchor: SID(5000 + o.i), dn: `CONTOSO\\u${o.i}`, state: 'connected' },
        ],
        lineage: [
          { attribute: 'uid', connector: 'exchange', anchor: exchangeAnchor, flow: 'exchange/mailbox/uid', rulesVersion: 'r1', at: AT },
          { attribute: 'sid', connector: 'exchange', anchor: exchangeAnchor, flow: 'exchange/mailbox/sid', rulesVersion: 'r1', at: AT },
          { attribute: 'ntAccount', connector: 'nt4', anchor: SID(5000 + o.i), flow: 'nt4/user/ntAccount', rulesVersion: 'r1', at: AT },
        ],
        rulesVersion: 'r1',
        cause: { connector: 'nt4', anchor: SID(5000 + o.i), csVersion: version },
        reason: version === 1 ? 'projection' : 'join',
        ...extra,
      },
      2,
    );
  }

  const first = people.map((o) => person(o, 1));
  const second = people.slice(0, 100).map((o) => person(o, 2));
  const groupEvent = () =>
    msg(
      'mv.object.changed',
      {
        mvObjectId: group,
        objectType: 'group',
        version: 1,
        change: 'projected',
        attributes: { cn: ['All'], member: people.slice(0, 3).map((o) => ({ ref: o.id })) },
        connectors: [{ connector: 'exchange', anchor: 'dl-1', dn: 'cn=All,cn=Recipients,ou=SiteA,o=Contoso', state: 'connected' }],
        lineage: [],
        rulesVersion: 'r1',
        cause: { connector: 'exchange', anchor: 'dl-1', csVersion: 1 },
        reason: 'projection',
      },
      2,
    );
  const theGroup = groupEvent();

  const countEvents = async () => Number((await p.query<{ n: string }>(`SELECT count(*) AS n FROM "${p.schema}".mv_object_event`))[0]!.n);

  it('applies MV events in batches: objects, connectors, lineage, multi-valued, binary and reference values', async () => {
    await p.publish('mvEvents', [...first, ...second, theGroup].map((m) => ({ key: m.data.mvObjectId, message: m })));
    await waitFor('every MV event applied', async () => ((await countEvents()) === first.length + second.length + 1 ? true : undefined), 120_000, 100);

    const objects = await p.query<{ n: number; v2: number }>(`SELECT count(*)::int AS n, count(*) FILTER (WHERE version = 2)::int AS v2 FROM "${p.schema}".mv_object`);
    expect(objects[0]).toEqual({ n: 301, v2: 100 });
    const links = await p.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${p.schema}".mv_connector`);
    expect(links[0]!.n).toBe(601);
    // The stored position is the end of every partition.
    const [{ offsets }] = await p.query<{ offsets: string }>(`SELECT sum(next_offset)::text AS offsets FROM "${p.schema}".consumer_offset WHERE topic = $1`, [p.prefix + TOPICS.mvEvents.name]);
    expect(Number(offsets)).toBe(401);
  });

  it('finds a person by the SID string form of a binary SID, by a multi-valued value, a number, a boolean and a reference', async () => {
    const o = people[7]!;
    const bySid = await p.call<{ count: number; objects: { id: string }[] }>(`/api/v1/objects?type=person&attr=${encodeURIComponent(`sid=${SID(5007)}`)}`);
    expect(bySid.status).toBe(200);
    expect(bySid.body.objects.map((x) => x.id)).toEqual([o.id]);
    const byProxy = await p.call<{ objects: { id: string }[] }>(`/api/v1/objects?proxyAddresses=${encodeURIComponent('smtp:u7@old.contoso.com')}`);
    expect(byProxy.body.objects.map((x) => x.id)).toEqual([o.id]);
    const bySize = await p.call<{ count: number }>(`/api/v1/objects?type=person&mailboxSize=200&limit=1000`);
    expect(bySize.body.count).toBe(100);
    const enabled = await p.call<{ count: number }>(`/api/v1/objects?type=person&enabled=true&limit=1000`);
    expect(enabled.body.count).toBe(300);
    const memberOf = await p.call<{ objects: { id: string }[] }>(`/api/v1/objects?attr=member=${people[1]!.id}`);
    expect(memberOf.body.objects.map((x) => x.id)).toEqual([group]);
  });

  it('pages and sorts', async () => {
    const all: string[] = [];
    for (let offset = 0; ; offset += 70) {
      const page = await p.call<{ objects: { id: string }[]; nextOffset: number | null }>(`/api/v1/objects?type=person&sort=id&order=desc&limit=70&offset=${offset}`);
      all.push(...page.body.objects.map((x) => x.id));
      if (page.body.nextOffset === null) break;
    }
    expect(all).toEqual(people.map((o) => o.id).sort().reverse());
  });

  it('shows one MV object with both connectors and the lineage of ntAccount', async () => {
    const o = people[3]!;
    const r = await p.call<{ connectors: { connector: string }[]; attributeLineage: Record<string, { connector: string; flow: string }[]>; history: unknown[]; version: number }>(
      `/api/v1/objects/${o.id}`,
    );
    expect(r.status).toBe(200);
    expect(r.body.version).toBe(2);
    expect(r.body.connectors.map((c) => c.connector).sort()).toEqual(['exchange', 'nt4']);
    expect(r.body.attributeLineage['ntAccount']).toEqual([expect.objectContaining({ connector: 'nt4', flow: 'nt4/user/ntAccount', rulesVersion: 'r1' })]);
    expect(r.body.history).toHaveLength(2);
    const link = await p.call<{ mvObject: { id: string } }>(`/api/v1/connectors/nt4/objects/${encodeURIComponent(SID(5003))}`);
    expect(link.body.mvObject.id).toBe(o.id);
  });

  it('changes nothing on redelivery or on an older version', async () => {
    const before = (await p.call<{ checksum: string }>('/api/v1/projection/checksum')).body.checksum;
    const stale = person(people[0]!, 1, { attributes: { uid: ['stale'] } });
    const marker = person(people[299]!, 2);
    await p.publish('mvEvents', [...first.slice(0, 50), ...second.slice(0, 50), stale].map((m) => ({ key: m.data.mvObjectId, message: m })));
    await p.publish('mvEvents', [{ key: marker.data.mvObjectId, message: marker }]);
    await waitFor('the marker applied', async () => ((await countEvents()) === 402 + 1 ? true : undefined), 60_000, 100);
    // Only the marker's and the stale event's history rows are new; no object went back.
    const rows = await p.query<{ uid: string }>(`SELECT attributes->'uid'->>0 AS uid FROM "${p.schema}".mv_object WHERE id = $1`, [people[0]!.id]);
    expect(rows[0]!.uid).toBe('u0');
    const after = (await p.call<{ checksum: string; rows: Record<string, number> }>('/api/v1/projection/checksum')).body;
    expect(after.checksum).not.toBe(before); // the marker (and the stale event's history row) moved it
    expect(after.rows['mv_object']).toBe(301);
    expect(after.rows['mv_object_event']).toBe(403);
  });

  it('keeps the run history from run events: the latest by sequence, per-object errors, held deletes', async () => {
    const runId = randomUUID();
    const held = randomUUID();
    const run = (sequence: number, status: RunEventV1['status'], extra: Partial<RunEventV1> = {}): Message<'run.event'> =>
      msg('run.event', {
        runId,
        connector: 'exchange',
        partition: 'SiteA',
        step: 'full-import',
        status,
        sequence,
        startedAt: AT,
        endedAt: status === 'running' ? null : '2026-11-23T12:01:00.000Z',
        counters: { stageAdd: sequence * 10, stageFailure: status === 'running' ? 0 : 1 },
        errors:
          status === 'running'
            ? []
            : [{ anchor: 'ex-9', dn: 'cn=bad,cn=Recipients,ou=SiteA,o=Contoso', type: 'invalid-sid', message: 'Assoc-NT-Account is 7 bytes', firstOccurred: '2026-11-20T00:00:00.000Z', retryCount: 3 }],
        message: null,
        ...extra,
      });
    const heldRun = msg('run.event', {
      runId: held,
      connector: 'join-engine',
      partition: 'exchange',
      step: 'delta-sync',
      status: 'held',
      sequence: 1,
      startedAt: AT,
      endedAt: null,
      counters: { heldDeletes: 250 },
      errors: [],
      message: '250 deletes exceed the threshold of 100',
    });
    await p.publish('runEvents', [run(1, 'running'), run(3, 'completed-with-errors'), run(2, 'running'), heldRun].map((m) => ({ key: `${m.data.connector}/${m.data.partition}`, message: m })));
    const got = await waitFor(
      'the run in the read model',
      async () => {
        const r = await p.call<{ status: string; counters: Record<string, number>; errors: { type: string; retryCount: number; firstOccurred: string }[] }>(`/api/v1/runs/${runId}`);
        return r.status === 200 && (await p.call<{ count: number }>('/api/v1/held-deletes')).body.count === 1 ? r.body : undefined;
      },
      60_000,
      100,
    );
    expect(got.status).toBe('completed-with-errors');
    expect(got.counters).toEqual({ stageAdd: 30, stageFailure: 1 });
    expect(got.errors).toEqual([expect.objectContaining({ type: 'invalid-sid', retryCount: 3, firstOccurred: expect.stringMatching(/^2026-11-20/) })]);
    const list = await p.call<{ runs: { runId: string }[] }>('/api/v1/runs?connector=exchange');
    expect(list.body.runs.map((r) => r.runId)).toEqual([runId]);
    const heldList = await p.call<{ heldDeletes: { id: string; deletes: number }[] }>('/api/v1/held-deletes');
    expect(heldList.body.heldDeletes).toEqual([expect.objectContaining({ id: held, deletes: 250 })]);
  });

  it('keeps export outcomes (pending = refused and retriable) and password outcomes without secrets', async () => {
    const exportId = randomUUID();
    const outcome = (attempt: number, status: 'failed' | 'applied') =>
      msg('export.outcome', {
        exportId,
        connector: 'exchange',
        partition: 'SiteA',
        op: 'update',
        anchor: 'ex-1',
        dn: 'cn=u1,cn=Recipients,ou=SiteA,o=Contoso',
        status,
        error: status === 'failed' ? { type: 'insufficient-access-rights', message: 'the bind account may not write title', retriable: true } : null,
        notReimported: [],
        attempt,
      });
    await p.publish('exportOutcomes', [{ key: 'exchange/ex-1', message: outcome(1, 'failed') }]);
    const pending = await waitFor('the pending export', async () => {
      const r = await p.call<{ exports: { exportId: string; pending: boolean }[] }>('/api/v1/exports?status=pending');
      return r.body.exports.length === 1 ? r.body.exports : undefined;
    }, 60_000, 100);
    expect(pending[0]).toMatchObject({ exportId, pending: true });
    await p.publish('exportOutcomes', [{ key: 'exchange/ex-1', message: outcome(2, 'applied') }, { key: 'exchange/ex-1', message: outcome(1, 'failed') }]);
    await waitFor('the export applied', async () => ((await p.call<{ exports: unknown[] }>('/api/v1/exports?status=pending')).body.exports.length === 0 ? true : undefined), 60_000, 100);

    const pw = msg('password.outcome', {
      commandId: randomUUID(),
      operationId: randomUUID(),
      connector: 'nt4',
      domain: 'CONTOSO',
      anchor: SID(5001),
      accountName: 'u1',
      op: 'set',
      result: 'new-password-violate-policy',
      message: 'the new password is shorter than the domain minimum of 8',
      completedAt: AT,
    });
    await p.publish('passwordOutcomes', [{ key: 'nt4/CONTOSO', message: pw }]);
    const ops = await waitFor('the password outcome', async () => {
      const r = await p.call<{ operations: Record<string, unknown>[] }>('/api/v1/password-operations?account=u1');
      return r.body.operations.length === 1 ? r.body.operations : undefined;
    }, 60_000, 100);
    expect(Object.keys(ops[0]!).sort()).toEqual(['accountName', 'anchor', 'commandId', 'completedAt', 'connector', 'domain', 'message', 'op', 'operationId', 'result']);
  });

  it('dead-letters a malformed MV event and keeps applying the others', async () => {
    await p.publishRaw('mvEvents', 'broken', '{"not":"an envelope"}');
    const after = person({ id: randomUUID(), i: 900 }, 1);
    await p.publish('mvEvents', [{ key: after.data.mvObjectId, message: after }]);
    await waitFor('the next event applied', async () => ((await p.call<{ count: number }>(`/api/v1/objects?uid=u900`)).body.count === 1 ? true : undefined), 60_000, 100);
    const admin = p.kafka.admin();
    await admin.connect();
    const dlq = await admin.fetchTopicOffsets(deadLetterTopic(p.prefix + TOPICS.mvEvents.name));
    await admin.disconnect();
    expect(dlq.reduce((n, o) => n + Number(o.high), 0)).toBe(1);
  });

  describe('auth and input', () => {
    it('refuses a call without a token, with a foreign token, or without the role (problem+json)', async () => {
      const none = await p.call<{ status: number; detail: string }>('/api/v1/objects', { roles: null });
      expect(none.status).toBe(401);
      expect(none.type).toMatch(/application\/problem\+json/);
      expect(none.body).toMatchObject({ status: 401, title: 'Unauthorized', detail: expect.stringMatching(/missing bearer token/) });
      const foreign = await new TokenIssuer(generateSigningKeyPair().privateKeyPem, 'metaweave', 'metaweave').issue('mallory', ['admins']);
      expect((await p.call('/api/v1/objects', { token: foreign })).status).toBe(401);
      const noRole = await p.call<{ detail: string }>('/api/v1/objects', { roles: ['password-set'] });
      expect(noRole.status).toBe(403);
      expect(noRole.body.detail).toMatch(/needs the role browse/);
      expect((await p.call('/api/v1/projection/rebuild', { method: 'POST', roles: ['browse'] })).status).toBe(403);
      expect((await p.call('/api/v1/runs', { method: 'POST', roles: ['browse'], body: { connector: 'exchange', partition: 'SiteA', step: 'full-import' } })).status).toBe(403);
      expect((await p.call(`/api/v1/held-deletes/${randomUUID()}/approve`, { method: 'POST', roles: ['operators'] })).status).toBe(403);
      expect((await p.call('/api/v1/runs', { roles: ['joiners'] })).status).toBe(403);
      expect((await p.call('/api/v1/password-operations', { roles: ['password-set'] })).status).toBe(200);
      expect((await p.call('/api/v1/openapi.json', { roles: null })).status).toBe(200);
    });

    it.each([
      ['/api/v1/objects?limit=0', /limit/],
      ['/api/v1/objects?limit=abc', /limit: expected a whole number/],
      ['/api/v1/objects?sort=colour', /sort/],
      ['/api/v1/objects?attr=novalue', /attr.*attribute=value/],
      ['/api/v1/objects?mail=a&mail=b', /mail/],
      ['/api/v1/objects?type=a%20b', /object type/],
      ['/api/v1/objects/not-a-uuid', /not a metaverse object id/],
      ['/api/v1/runs?status=sleeping', /status/],
      ['/api/v1/runs/42', /not a run id/],
      ['/api/v1/exports?status=lost', /status/],
    ])('GET %s → 400 with the reason', async (path, reason) => {
      const r = await p.call<{ status: number; detail: string }>(path);
      expect(r.status).toBe(400);
      expect(r.type).toMatch(/problem\+json/);
      expect(r.body.detail).toMatch(reason);
    });

    it('answers 404 for an unknown object or run', async () => {
      expect((await p.call<{ detail: string }>(`/api/v1/objects/${randomUUID()}`)).body).toMatchObject({ status: 404, detail: expect.stringMatching(/no metaverse object/) });
      expect((await p.call(`/api/v1/runs/${randomUUID()}`)).status).toBe(404);
    });

    it('serves an OpenAPI document that lists every endpoint with its parameters', async () => {
      const doc = (await p.call<{ openapi: string; paths: Record<string, Record<string, { parameters: { name: string }[] }>> }>('/api/v1/openapi.json', { roles: null })).body;
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/objects', '/api/v1/objects/{id}', '/api/v1/runs', '/api/v1/projection/rebuild', '/api/v1/held-deletes/{id}/approve']));
      expect(doc.paths['/api/v1/objects']!['get']!.parameters.map((x) => x.name)).toEqual(expect.arrayContaining(['type', 'attr', 'limit', 'offset', 'sort', 'order']));
    });
  });

  describe('forwarded operations', () => {
    it('starts a run profile on the connector with the caller’s token, and says why when it cannot', async () => {
      const token = await p.token(['operators']);
      const r = await p.call<{ runId: string }>('/api/v1/runs', { method: 'POST', token, body: { connector: 'exchange', partition: 'SiteA', step: 'full-import' } });
      expect(r.status).toBe(202);
      expect(r.body.runId).toBe('11111111-2222-4333-8444-555555555555');
      expect(exchangeStub.requests).toEqual([{ method: 'POST', url: '/api/v1/runs', auth: `Bearer ${token}`, body: JSON.stringify({ partition: 'SiteA', step: 'full-import' }) }]);

      const unknown = await p.call<{ detail: string }>('/api/v1/runs', { method: 'POST', roles: ['operators'], body: { connector: 'ad', partition: 'x', step: 'full-import' } });
      expect(unknown.status).toBe(404);
      expect(unknown.body.detail).toMatch(/no connector 'ad'.*exchange, nt4/);
      const down = await p.call<{ detail: string }>('/api/v1/runs', { method: 'POST', roles: ['operators'], body: { connector: 'nt4', partition: 'CONTOSO', step: 'full-import' } });
      expect(down.status).toBe(502);
      expect(down.body.detail).toMatch(/connector 'nt4' at http:\/\/127\.0\.0\.1:\d+ is unreachable/);
      const bad = await p.call<{ detail: string }>('/api/v1/runs', { method: 'POST', roles: ['operators'], body: { connector: 'exchange', partition: 'SiteA', step: 'reboot' } });
      expect(bad.status).toBe(400);
      expect(bad.body.detail).toMatch(/step/);
    });

    it('forwards approvals of held deletes (admins) and explicit joins and disconnects (joiners) to the join engine', async () => {
      const id = randomUUID();
      const r = await p.call('/api/v1/held-deletes/' + id + '/approve', { method: 'POST', roles: ['admins'] });
      expect(r.status).toBe(200);
      const join = { connector: 'nt4', anchor: SID(5001), mvObjectId: people[1]!.id };
      expect((await p.call('/api/v1/joins', { method: 'POST', roles: ['browse'], body: join })).status).toBe(403);
      expect((await p.call('/api/v1/joins', { method: 'POST', roles: ['joiners'], body: join })).status).toBe(200);
      expect((await p.call('/api/v1/disconnects', { method: 'POST', roles: ['joiners'], body: { connector: 'nt4', anchor: SID(5001) } })).status).toBe(200);
      const bad = await p.call<{ detail: string }>('/api/v1/joins', { method: 'POST', roles: ['joiners'], body: { connector: 'nt4', anchor: 'x', mvObjectId: 'nope' } });
      expect(bad.status).toBe(400);
      expect(bad.body.detail).toMatch(/mvObjectId: expected a UUID/);
      expect(joinStub.requests.map((x) => [x.method, x.url, x.body])).toEqual([
        ['POST', `/api/v1/held-deletes/${id}/approve`, '{}'],
        ['POST', '/api/v1/joins', JSON.stringify(join)],
        ['POST', '/api/v1/disconnects', JSON.stringify({ connector: 'nt4', anchor: SID(5001), explicit: true })],
      ]);
    });
  });

  describe('replay', () => {
    it('rebuilds the read model from the MV event stream into a new schema with the same checksum, and survives a restart', async () => {
      const before = (await p.call<{ checksum: string; schema: string }>('/api/v1/projection/checksum')).body;
      const runsBefore = (await p.call<{ count: number }>('/api/v1/runs')).body.count;
      const r = await p.call<{ equal: boolean; previousSchema: string; activeSchema: string; rebuilt: { checksum: string } }>('/api/v1/projection/rebuild', { method: 'POST', roles: ['admins'] });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ equal: true, previousSchema: p.schema });
      expect(r.body.activeSchema).not.toBe(p.schema);
      const after = (await p.call<{ checksum: string; schema: string }>('/api/v1/projection/checksum')).body;
      expect(after).toMatchObject({ checksum: before.checksum, schema: r.body.activeSchema });
      expect((await p.call<{ count: number }>('/api/v1/runs')).body.count).toBe(runsBefore);

      // New events land in the new schema; a restart resumes there from the stored positions.
      const next = person({ id: randomUUID(), i: 901 }, 1);
      await p.publish('mvEvents', [{ key: next.data.mvObjectId, message: next }]);
      await waitFor('the next event in the rebuilt read model', async () => ((await p.call<{ count: number }>('/api/v1/objects?uid=u901')).body.count === 1 ? true : undefined), 60_000, 100);
      // A schema left by a rebuild killed half-way is dropped at start.
      await p.query(`CREATE SCHEMA "${p.schema}_rb_leftover"`);
      await p.stop();
      await p.start();
      expect(await p.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [`${p.schema}_rb_leftover`])).toEqual([]);
      const restarted = (await p.call<{ checksum: string; schema: string; rows: Record<string, number> }>('/api/v1/projection/checksum')).body;
      expect(restarted.schema).toBe(r.body.activeSchema);
      expect(restarted.rows['mv_object']).toBe(303);
    });

    it('rebuilds to the same checksum while a burst of changes arrives', async () => {
      const burst = people.slice(100, 250).map((o) => person(o, 2));
      const publishing = (async () => {
        for (let i = 0; i < burst.length; i += 10) await p.publish('mvEvents', burst.slice(i, i + 10).map((m) => ({ key: m.data.mvObjectId, message: m })));
      })();
      const r = await p.call<{ equal: boolean; rebuilt: { rows: Record<string, number> } }>('/api/v1/projection/rebuild', { method: 'POST', roles: ['admins'] });
      await publishing;
      expect(r.status).toBe(200);
      expect(r.body.equal).toBe(true);
      await waitFor('the whole burst applied', async () => {
        const v2 = await p.call<{ count: number }>('/api/v1/objects?type=person&title=title%20v2&limit=1000');
        return v2.body.count === 251 ? true : undefined; // 100 + the marker earlier + 150 now
      }, 60_000, 100);
    });

    it('detects a read model that drifted from the log, and the rebuild repairs it', async () => {
      const good = (await p.call<{ checksum: string; schema: string }>('/api/v1/projection/checksum')).body;
      await p.query(`UPDATE "${good.schema}".mv_object SET attributes = jsonb_set(attributes, '{title}', '["tampered"]') WHERE id = $1`, [people[5]!.id]);
      const drifted = (await p.call<{ checksum: string }>('/api/v1/projection/checksum')).body;
      expect(drifted.checksum).not.toBe(good.checksum);
      const r = await p.call<{ equal: boolean; previous: { checksum: string }; rebuilt: { checksum: string } }>('/api/v1/projection/rebuild', { method: 'POST', roles: ['admins'] });
      expect(r.body).toMatchObject({ equal: false, previous: { checksum: drifted.checksum }, rebuilt: { checksum: good.checksum } });
      expect((await p.call<{ checksum: string }>('/api/v1/projection/checksum')).body.checksum).toBe(good.checksum);
      const old = await p.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [good.schema]);
      expect(old).toEqual([]);
    });
  });
});

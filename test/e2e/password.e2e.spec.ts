import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { TokenIssuer, generateSigningKeyPair, type Role } from '@metaweave/auth';
import { decodeMessage, TOPICS, type Message, type MvConnectorLink, type PasswordCommandV1, type PasswordOutcomeV1, type PasswordResult } from '@metaweave/contracts';
import { createKafka, MessageProducer } from '@metaweave/messaging';
import { generateRecipientKeyPair, openPassword, SealedSecretError } from '@metaweave/secrets';
import { REPO_ROOT, waitFor } from '@metaweave/testing';
import type { Consumer, Kafka } from 'kafkajs';
import { Pipeline } from './harness';

/**
 * The password service as a process on real Kafka and PostgreSQL. The test plays the join engine
 * (publishes MV events) and the NT4 connector (opens the sealed commands with the connector's
 * private key, publishes outcomes). Ends with the leak check: every clear password used is
 * searched in the service's log, every topic's raw bytes, the span file, a dump of its schema and
 * every HTTP response.
 */
jest.setTimeout(300_000);

const p = new Pipeline();
const contoso = generateRecipientKeyPair('contoso-2026-11');
const signing = generateSigningKeyPair();
const issuer = new TokenIssuer(signing.privateKeyPem, 'metaweave', 'metaweave');
const kafka: Kafka = createKafka({ brokers: p.stack['KAFKA_BROKERS']!.split(','), clientId: `password-e2e-${p.suffix}` });
const producer = new MessageProducer({ kafka });
const topic = (name: string) => p.topicPrefix + name;

const PERSON = randomUUID();
const PERSON_NO_NT4 = randomUUID();
const GROUP = randomUUID();
const SID = 'S-1-5-21-1144201745-2289526357-3433806489-3001';
const SID2 = 'S-1-5-21-1144201745-2289526357-3433806489-3002';
/** Every clear password this test sends: none may be found anywhere afterwards. */
const PASSWORDS = {
  set: `Set-Pw-${p.suffix}-Aa1!`,
  set2: `Second-${p.suffix}-Bb2?`,
  expiring: `Expiring-${p.suffix}-Cc3#`,
  old: `Old-Pw-${p.suffix}-Dd4$`,
  changed: `New-Pw-${p.suffix}-Ee5%`,
  // Short, so a JSON parser's error message would quote it whole (V8 quotes short inputs).
  malformed: `Mf-${p.suffix}-6^`,
  refused: `Refused-${p.suffix}-Gg7&`,
  forged: `Forged-${p.suffix}-Hh8*`,
  cli: `Cli-Pw-${p.suffix}-Ii9(`,
  tty: `Tty-Pw-${p.suffix}-Jj0)`,
};
const responses: string[] = [];
/** Output of service processes that were replaced (restart test): part of the leak search. */
const earlierLogs: string[] = [];
const commands: { key: string; value: Buffer; traceparent: string | undefined; message: Message<'password.command'> }[] = [];
let commandConsumer: Consumer;

async function token(subject: string, roles: Role[]): Promise<string> {
  return issuer.issue(subject, roles);
}

async function call(method: 'GET' | 'POST', path: string, opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(p.url('password-service', path), {
    method,
    headers,
    body: opts.raw ?? (opts.body === undefined ? null : JSON.stringify(opts.body)),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  responses.push(text, JSON.stringify([...res.headers]));
  return { status: res.status, type: res.headers.get('content-type') ?? '', location: res.headers.get('location'), replayed: res.headers.get('idempotent-replayed'), body: text ? JSON.parse(text) : undefined };
}

function mvEvent(id: string, version: number, objectType: string, connectors: MvConnectorLink[], change: 'projected' | 'updated' | 'deleted' = version === 1 ? 'projected' : 'updated'): Message<'mv.object.changed'> {
  return {
    eventId: randomUUID(),
    type: 'mv.object.changed',
    schemaVersion: 2,
    occurredAt: new Date().toISOString(),
    source: 'join-engine',
    correlationId: randomUUID(),
    causationId: null,
    data: { mvObjectId: id, objectType, version, change, attributes: { cn: [`obj ${id}`] }, connectors, lineage: [], rulesVersion: 'test', cause: { connector: 'exchange', anchor: id, csVersion: version }, reason: 'join' },
  };
}

async function publishOutcome(cmd: PasswordCommandV1, result: PasswordResult, message: string | null): Promise<void> {
  const data: PasswordOutcomeV1 = {
    commandId: cmd.commandId,
    operationId: cmd.operationId,
    connector: cmd.connector,
    domain: cmd.domain,
    anchor: cmd.anchor,
    accountName: cmd.accountName,
    op: cmd.op,
    result,
    message,
    completedAt: new Date().toISOString(),
  };
  const outcome: Message<'password.outcome'> = {
    eventId: randomUUID(),
    type: 'password.outcome',
    schemaVersion: 1,
    occurredAt: data.completedAt,
    source: 'nt4-connector',
    correlationId: cmd.operationId,
    causationId: cmd.commandId,
    data,
  };
  await producer.send(topic(TOPICS.passwordOutcomes.name), [{ key: `${cmd.connector}/${cmd.domain}`, message: outcome }]);
}

async function commandsOf(operationId: string, n: number) {
  return waitFor(`${n} command(s) of operation ${operationId} on the topic`, () => {
    const found = commands.filter((c) => c.message.data.operationId === operationId);
    return found.length >= n ? found : undefined;
  });
}

async function operation(id: string, tokenValue: string, until: (status: string) => boolean) {
  return waitFor(`operation ${id}`, async () => {
    const r = await call('GET', `/api/v1/operations/${id}`, { token: tokenValue });
    return r.status === 200 && until(r.body.status) ? r.body : undefined;
  });
}

/** Every record of every topic of this pipeline, raw. */
async function allRawRecords(): Promise<Buffer[]> {
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(p.topicPrefix));
  let expected = 0;
  for (const t of topics) for (const o of await admin.fetchTopicOffsets(t)) expected += Number(o.high) - Number(o.low);
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: `password-e2e-leak-${p.suffix}` });
  const records: Buffer[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      records.push(Buffer.concat([message.key ?? Buffer.alloc(0), message.value ?? Buffer.alloc(0), ...Object.values(message.headers ?? {}).map((h) => Buffer.from(String(h)))]));
    },
  });
  await waitFor(`all ${expected} records of ${topics.length} topics`, () => (records.length >= expected ? true : undefined), 120_000);
  await consumer.disconnect();
  return records;
}

beforeAll(async () => {
  await p.start('password-service', {
    MW_PASSWORD_CONNECTORS: JSON.stringify([{ connector: 'nt4-contoso', domain: 'CONTOSO', kid: contoso.kid, publicKeyPem: contoso.publicKeyPem }]),
    MW_AUTH_PUBLIC_KEYS: signing.publicKeyPem,
    MW_PASSWORD_COMMAND_TTL_SECONDS: '10',
    MW_PASSWORD_OUTCOME_GRACE_SECONDS: '0',
    MW_LOG_LEVEL: 'debug',
  });
  await producer.connect();
  commandConsumer = kafka.consumer({ groupId: `password-e2e-commands-${p.suffix}` });
  await commandConsumer.connect();
  await commandConsumer.subscribe({ topics: [topic(TOPICS.passwordCommands.name)], fromBeginning: true });
  await commandConsumer.run({
    eachMessage: async ({ message }) => {
      const traceparent = message.headers?.['traceparent']?.toString();
      commands.push({ key: message.key!.toString(), value: message.value!, traceparent, message: decodeMessage(message.value, ['password.command']) as Message<'password.command'> });
    },
  });
  const nt4: MvConnectorLink = { connector: 'nt4-contoso', anchor: SID, dn: 'CONTOSO\\pwtest', state: 'connected' };
  const exchange: MvConnectorLink = { connector: 'exchange', anchor: PERSON, dn: 'cn=pwtest,cn=Recipients,ou=SiteA,o=Contoso', state: 'connected' };
  await producer.send(topic(TOPICS.mvEvents.name), [
    { key: PERSON, message: mvEvent(PERSON, 1, 'person', [exchange]) },
    { key: PERSON, message: mvEvent(PERSON, 2, 'person', [exchange, nt4]) },
    // A redelivered older version must change nothing.
    { key: PERSON, message: mvEvent(PERSON, 1, 'person', [exchange]) },
    { key: PERSON_NO_NT4, message: mvEvent(PERSON_NO_NT4, 1, 'person', [{ ...exchange, anchor: PERSON_NO_NT4 }]) },
    { key: GROUP, message: mvEvent(GROUP, 1, 'group', [{ connector: 'nt4-contoso', anchor: SID2, dn: 'CONTOSO\\Helpdesk', state: 'connected' }]) },
  ]);
  const schema = p.schema('password-service');
  await waitFor('the routing view to have consumed the five MV events', async () => {
    const { rows } = await p.admin.query(`SELECT coalesce(sum(next_offset), 0)::int AS n FROM "${schema}".consumer_offset`);
    return rows[0].n === 5 ? true : undefined;
  });
});

afterAll(async () => {
  await commandConsumer?.disconnect();
  await producer.disconnect().catch(() => undefined);
  await p.dispose();
});

describe('password service', () => {
  let setOperation: string;

  it('keeps its routing view from MV events, idempotently (a stale redelivery changes nothing)', async () => {
    const schema = p.schema('password-service');
    const { rows } = await p.admin.query(`SELECT r.version, a.connector, a.anchor, a.domain, a.account_name FROM "${schema}".route r JOIN "${schema}".route_account a USING (mv_object_id) WHERE r.mv_object_id = $1`, [PERSON]);
    expect(rows).toEqual([{ version: 2, connector: 'nt4-contoso', anchor: SID, domain: 'CONTOSO', account_name: 'pwtest' }]);
    const offsets = await p.admin.query(`SELECT sum(next_offset)::int AS n FROM "${schema}".consumer_offset`);
    expect(offsets.rows[0].n).toBe(5);
    const accounts = await call('GET', `/api/v1/persons/${PERSON}/accounts`, { token: await token('alice', ['password-set']) });
    expect(accounts.body).toEqual({ mvObjectId: PERSON, objectType: 'person', version: 2, deleted: false, accounts: [{ connector: 'nt4-contoso', anchor: SID, domain: 'CONTOSO', accountName: 'pwtest', configured: true }] });
    expect((await call('GET', `/api/v1/persons/${PERSON}/accounts`, { token: await token('eve', ['browse']) })).status).toBe(403);
  });

  it('a set returns 202 at once and sends one sealed command per account that only the connector’s key opens, with an expiry', async () => {
    const before = Date.now();
    const r = await call('POST', `/api/v1/persons/${PERSON}/password`, { token: await token('alice', ['password-set']), body: { newPassword: PASSWORDS.set, forceChangeAtNextLogon: true, unlock: true } });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ op: 'set', status: 'pending', mvObjectId: PERSON, requestedBy: 'alice', forceChangeAtNextLogon: true, unlock: true });
    expect(r.body.targets).toEqual([expect.objectContaining({ connector: 'nt4-contoso', domain: 'CONTOSO', anchor: SID, accountName: 'pwtest', result: 'pending' })]);
    expect(r.location).toBe(`/api/v1/operations/${r.body.operationId}`);
    setOperation = r.body.operationId;

    const [cmd] = await commandsOf(setOperation, 1);
    expect(cmd!.key).toBe('nt4-contoso/CONTOSO');
    const data = cmd!.message.data;
    expect(data).toMatchObject({ connector: 'nt4-contoso', domain: 'CONTOSO', anchor: SID, accountName: 'pwtest', op: 'set', forceChangeAtNextLogon: true, unlock: true, requestedBy: 'alice' });
    expect(cmd!.message.eventId).toBe(data.commandId);
    const ttl = Date.parse(data.expiresAt) - before;
    expect(ttl).toBeGreaterThan(9_000);
    expect(ttl).toBeLessThan(11_000 + (Date.now() - before));
    expect(openPassword(data, [contoso])).toEqual({ newPassword: PASSWORDS.set });
    const stranger = generateRecipientKeyPair(contoso.kid);
    expect(() => openPassword(data, [stranger])).toThrow(SealedSecretError);
    expect(cmd!.value.toString()).not.toContain(PASSWORDS.set);
  });

  it('the sealed command continues the trace of the HTTP request (through the outbox)', async () => {
    const [cmd] = await commandsOf(setOperation, 1);
    const traceId = cmd!.traceparent?.split('-')[1];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const server = await waitFor('the request span in the span file', () =>
      p.spans('password-service').find((sp) => sp.traceId === traceId && sp.kind === 'SERVER'),
    );
    expect(server.name).toMatch(/POST/);
  });

  it('outcome events complete the operation; a redelivered outcome changes nothing', async () => {
    const [cmd] = await commandsOf(setOperation, 1);
    await publishOutcome(cmd!.message.data, 'success', null);
    const admin = await token('alice', ['password-set']);
    const op = await operation(setOperation, admin, (s) => s !== 'pending');
    expect(op).toMatchObject({ status: 'succeeded', targets: [expect.objectContaining({ result: 'success', completedAt: expect.any(String) })] });
    await publishOutcome(cmd!.message.data, 'access-denied', 'late duplicate');
    // The duplicate is consumed after the first: once a later marker outcome is applied, the first still stands.
    const marker = await call('POST', `/api/v1/persons/${PERSON}/password`, { token: admin, body: { newPassword: PASSWORDS.set2 } });
    const [markerCmd] = await commandsOf(marker.body.operationId, 1);
    await publishOutcome(markerCmd!.message.data, 'new-password-violate-policy', 'the password does not meet the domain policy: minimum length 14');
    const failed = await operation(marker.body.operationId, admin, (s) => s !== 'pending');
    expect(failed).toMatchObject({ status: 'failed', targets: [expect.objectContaining({ result: 'new-password-violate-policy', message: 'the password does not meet the domain policy: minimum length 14' })] });
    expect((await operation(setOperation, admin, () => true)).targets[0].result).toBe('success');
  });

  it('a change needs only a valid token (the old password is the proof); the requester sees the typed failure', async () => {
    const bob = await token('bob', []);
    const r = await call('POST', `/api/v1/accounts/nt4-contoso/${SID}/password/change`, { token: bob, body: { oldPassword: PASSWORDS.old, newPassword: PASSWORDS.changed } });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ op: 'change', mvObjectId: null, requestedBy: 'bob', targets: [expect.objectContaining({ anchor: SID, accountName: 'pwtest' })] });
    const [cmd] = await commandsOf(r.body.operationId, 1);
    expect(openPassword(cmd!.message.data, [contoso])).toEqual({ oldPassword: PASSWORDS.old, newPassword: PASSWORDS.changed });
    await publishOutcome(cmd!.message.data, 'bad-password', 'the old password is not correct');
    expect(await operation(r.body.operationId, bob, (s) => s !== 'pending')).toMatchObject({ status: 'failed', targets: [expect.objectContaining({ result: 'bad-password' })] });
    // Someone else without the password-set role learns nothing about bob's operation.
    const carol = await call('GET', `/api/v1/operations/${r.body.operationId}`, { token: await token('carol', ['browse']) });
    expect(carol.status).toBe(404);
    expect(carol.type).toMatch(/application\/problem\+json/);
  });

  it('a target whose command expired without an outcome is reported as expired', async () => {
    const admin = await token('alice', ['password-set']);
    const r = await call('POST', `/api/v1/persons/${PERSON}/password`, { token: admin, body: { newPassword: PASSWORDS.expiring, targets: [{ connector: 'nt4-contoso', anchor: SID }] } });
    expect(r.status).toBe(202);
    await commandsOf(r.body.operationId, 1);
    expect((await call('GET', `/api/v1/operations/${r.body.operationId}`, { token: admin })).body.status).toBe('pending');
    const op = await waitFor('the command to expire', async () => {
      const s = await call('GET', `/api/v1/operations/${r.body.operationId}`, { token: admin });
      return s.body.status === 'pending' ? undefined : s.body;
    }, 60_000, 500);
    expect(op).toMatchObject({ status: 'failed', targets: [expect.objectContaining({ result: 'expired', message: expect.stringMatching(/no outcome from nt4-contoso before the command expired/) })] });
  });

  it('refuses bad requests with specific problem+json errors, and sends nothing for them', async () => {
    const admin = await token('alice', ['password-set']);
    const sentBefore = commands.length;
    const forged = await new TokenIssuer(generateSigningKeyPair().privateKeyPem, 'metaweave', 'metaweave').issue('mallory', ['admins']);
    const set = (id: string, body: unknown, t?: string) => call('POST', `/api/v1/persons/${id}/password`, { ...(t ? { token: t } : {}), body });
    const cases: [Promise<Awaited<ReturnType<typeof call>>>, number, string, RegExp][] = [
      [set(PERSON, { newPassword: PASSWORDS.refused }), 401, 'urn:metaweave:problem:unauthenticated', /missing bearer token/],
      [set(PERSON, { newPassword: PASSWORDS.forged }, forged), 401, 'urn:metaweave:problem:unauthenticated', /not signed by a configured key/],
      [set(PERSON, { newPassword: PASSWORDS.refused }, await token('eve', ['browse'])), 403, 'urn:metaweave:problem:forbidden', /needs the role password-set/],
      [set(randomUUID(), { newPassword: PASSWORDS.refused }, admin), 404, 'urn:metaweave:problem:unknown-person', /no metaverse person .* is known/],
      [set(PERSON_NO_NT4, { newPassword: PASSWORDS.refused }, admin), 422, 'urn:metaweave:problem:no-nt4-account', /has no connected NT4 account/],
      [set(GROUP, { newPassword: PASSWORDS.refused }, admin), 422, 'urn:metaweave:problem:not-a-person', /is a group, not a person/],
      [set(PERSON, { newPassword: PASSWORDS.refused, targets: [{ connector: 'nt4-contoso', anchor: SID2 }] }, admin), 422, 'urn:metaweave:problem:unknown-target', /not an NT4 account of person/],
      [set(PERSON, { newPassword: '' }, admin), 400, 'urn:metaweave:problem:invalid-request-body', /newPassword must not be empty/],
      [set(PERSON, { newPassword: PASSWORDS.refused, unlock: 'yes' }, admin), 400, 'urn:metaweave:problem:invalid-request-body', /unlock: .*boolean/],
      [set('not-a-uuid', { newPassword: PASSWORDS.refused }, admin), 400, 'urn:metaweave:problem:invalid-person-id', /is not a metaverse object id/],
      [call('POST', `/api/v1/persons/${PERSON}/password`, { token: admin, raw: PASSWORDS.malformed }), 400, 'urn:metaweave:problem:malformed-request', /not valid JSON/],
      [call('POST', `/api/v1/accounts/nt4-contoso/S-1-5-21-9-9-9-9/password/change`, { token: admin, body: { oldPassword: PASSWORDS.refused, newPassword: PASSWORDS.refused } }), 404, 'urn:metaweave:problem:unknown-account', /no NT4 account nt4-contoso\/S-1-5-21-9-9-9-9/],
      [call('POST', `/api/v1/accounts/nt4-contoso/${SID}/password/change`, { body: { oldPassword: PASSWORDS.refused, newPassword: PASSWORDS.refused } }), 401, 'urn:metaweave:problem:unauthenticated', /missing bearer token/],
      [call('GET', `/api/v1/operations/${randomUUID()}`, { token: admin }), 404, 'urn:metaweave:problem:unknown-operation', /no password operation/],
    ];
    for (const [promise, status, type, detail] of cases) {
      const r = await promise;
      expect({ status: r.status, type: r.body?.type }).toEqual({ status, type });
      expect(r.type).toMatch(/^application\/problem\+json/);
      expect(r.body.detail).toMatch(detail);
    }
    // Give a wrongly sent command time to show up, then check none did: wait for a marker command.
    const marker = await call('POST', `/api/v1/persons/${PERSON}/password`, { token: admin, body: { newPassword: PASSWORDS.set2 } });
    await commandsOf(marker.body.operationId, 1);
    expect(commands.length).toBe(sentBefore + 1);
  });

  it('with an Idempotency-Key a retried request returns the first operation and sends nothing again; the key cannot be reused for another request', async () => {
    const admin = await token('alice', ['password-set']);
    const key = `retry-${p.suffix}`;
    const first = await call('POST', `/api/v1/persons/${PERSON}/password`, { token: admin, headers: { 'idempotency-key': key }, body: { newPassword: PASSWORDS.set2, unlock: true } });
    const again = await call('POST', `/api/v1/persons/${PERSON}/password`, { token: admin, headers: { 'idempotency-key': key }, body: { newPassword: PASSWORDS.set2, unlock: true } });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.replayed).toBe('true');
    expect(again.body.operationId).toBe(first.body.operationId);
    // Another requester's key space is its own.
    const other = await call('POST', `/api/v1/persons/${PERSON}/password`, { token: await token('zoe', ['password-set']), headers: { 'idempotency-key': key }, body: { newPassword: PASSWORDS.set2, unlock: true } });
    expect(other.body.operationId).not.toBe(first.body.operationId);
    const reused = await call('POST', `/api/v1/persons/${PERSON}/password`, { token: admin, headers: { 'idempotency-key': key }, body: { newPassword: PASSWORDS.set2, unlock: false } });
    expect(reused).toMatchObject({ status: 422, body: { type: 'urn:metaweave:problem:idempotency-key-reused', detail: expect.stringContaining(first.body.operationId) } });
    const badKey = await call('POST', `/api/v1/persons/${PERSON}/password`, { token: admin, headers: { 'idempotency-key': 'has spaces' }, body: { newPassword: PASSWORDS.set2 } });
    expect(badKey).toMatchObject({ status: 400, body: { type: 'urn:metaweave:problem:invalid-idempotency-key' } });
    await commandsOf(other.body.operationId, 1);
    expect(commands.filter((c) => c.message.data.operationId === first.body.operationId)).toHaveLength(1);
  });

  it('dead-letters an outcome for a command it never sent', async () => {
    const fake = { ...commands[0]!.message.data, commandId: randomUUID() };
    await publishOutcome(fake, 'success', null);
    const consumer = kafka.consumer({ groupId: `password-e2e-dlq-${p.suffix}` });
    const dead: { headers: Record<string, string> }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic(TOPICS.passwordOutcomes.name) + '.dlq'], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void dead.push({ headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])) }) });
    await waitFor('the dead letter', () => (dead.length > 0 ? true : undefined));
    await consumer.disconnect();
    expect(JSON.stringify(dead[0]!.headers)).toContain(`outcome for command ${fake.commandId}`);
  });

  it('serves its OpenAPI document without a token', async () => {
    const r = await call('GET', '/api/v1/openapi.json');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.paths)).toEqual(['/api/v1/persons/{mvObjectId}/password', '/api/v1/persons/{mvObjectId}/accounts', '/api/v1/accounts/{connector}/{anchor}/password/change', '/api/v1/operations', '/api/v1/operations/{id}']);
    expect(r.body.paths['/api/v1/persons/{mvObjectId}/password'].post.requestBody.content['application/json'].schema.required).toEqual(['newPassword']);
  });

  it('keeps an audit trail: who, which person and accounts, when, result — listed by person, account or requester', async () => {
    const admin = await token('auditor', ['password-set']);
    const byPerson = await call('GET', `/api/v1/operations?mvObjectId=${PERSON}&limit=1000`, { token: admin });
    expect(byPerson.status).toBe(200);
    expect(byPerson.body.operations.every((o: { mvObjectId: string; op: string }) => o.mvObjectId === PERSON && o.op === 'set')).toBe(true);
    const first = byPerson.body.operations.find((o: { operationId: string }) => o.operationId === setOperation);
    expect(first).toMatchObject({ requestedBy: 'alice', status: 'succeeded', forceChangeAtNextLogon: true, unlock: true, targets: [expect.objectContaining({ connector: 'nt4-contoso', anchor: SID, accountName: 'pwtest', result: 'success' })] });
    const times = byPerson.body.operations.map((o: { requestedAt: string }) => o.requestedAt);
    expect([...times].sort().reverse()).toEqual(times);
    const byAccount = await call('GET', `/api/v1/operations?connector=nt4-contoso&anchor=${SID}&requestedBy=bob`, { token: admin });
    expect(byAccount.body.operations.map((o: { op: string; requestedBy: string }) => `${o.op} ${o.requestedBy}`)).toEqual(['change bob']);
    const bad = await call('GET', `/api/v1/operations?connector=nt4-contoso`, { token: admin });
    expect(bad).toMatchObject({ status: 400, body: { type: 'urn:metaweave:problem:invalid-query', detail: expect.stringMatching(/give connector and anchor together/) } });
    expect((await call('GET', `/api/v1/operations`, { token: await token('bob', []) })).status).toBe(403);
  });

  it('after a SIGKILL it resumes its routing view from the offsets stored with the rows, and its operations are still there', async () => {
    const admin = await token('alice', ['password-set']);
    const before = p.processes['password-service']!;
    await before.kill();
    earlierLogs.push(before.logs);
    const second: MvConnectorLink = { connector: 'nt4-contoso', anchor: SID2, dn: 'CONTOSO\\pwtest2', state: 'connected' };
    await producer.send(topic(TOPICS.mvEvents.name), [
      { key: PERSON, message: mvEvent(PERSON, 3, 'person', [{ connector: 'nt4-contoso', anchor: SID, dn: 'CONTOSO\\pwtest', state: 'connected' }, second]) },
    ]);
    await p.start('password-service', {
      MW_PASSWORD_CONNECTORS: JSON.stringify([{ connector: 'nt4-contoso', domain: 'CONTOSO', kid: contoso.kid, publicKeyPem: contoso.publicKeyPem }]),
      MW_AUTH_PUBLIC_KEYS: signing.publicKeyPem,
      MW_PASSWORD_COMMAND_TTL_SECONDS: '10',
      MW_PASSWORD_OUTCOME_GRACE_SECONDS: '0',
      MW_LOG_LEVEL: 'debug',
    });
    const schema = p.schema('password-service');
    await waitFor('the sixth MV event applied', async () => {
      const { rows } = await p.admin.query(`SELECT coalesce(sum(next_offset), 0)::int AS n FROM "${schema}".consumer_offset`);
      return rows[0].n === 6 ? true : undefined;
    });
    const { rows } = await p.admin.query(`SELECT r.version, count(*)::int AS accounts FROM "${schema}".route r JOIN "${schema}".route_account USING (mv_object_id) WHERE r.mv_object_id = $1 GROUP BY r.version`, [PERSON]);
    expect(rows).toEqual([{ version: 3, accounts: 2 }]);
    expect((await operation(setOperation, admin, () => true)).status).toBe('succeeded');
    const r = await call('POST', `/api/v1/persons/${PERSON}/password`, { token: admin, body: { newPassword: PASSWORDS.set2 } });
    expect(r.status).toBe(202);
    expect((await commandsOf(r.body.operationId, 2)).map((c) => c.message.data.accountName).sort()).toEqual(['pwtest', 'pwtest2']);
  });

  async function mw(args: string[], stdin: string, subject: string, roles: Role[]) {
    const cli = spawn(process.execPath, ['-r', join(REPO_ROOT, 'tools', 'bin', 'register-paths.cjs'), join(REPO_ROOT, 'dist', 'apps', 'mw', 'src', 'main.js'), ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env['PATH'] ?? '', MW_PASSWORD_URL: p.url('password-service', ''), MW_TOKEN: await token(subject, roles) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
    cli.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => cli.once('exit', (code) => r(code)));
    cli.stdin.end(stdin);
    return { exited, output: () => out };
  }

  it('mw password set reads the password from stdin (never argv), waits for the outcome and prints it', async () => {
    const cli = await mw(['password', 'set', PERSON, '--target', `nt4-contoso/${SID}`, '--force-change', '--wait'], `${PASSWORDS.cli}\n`, 'cli-operator', ['password-set']);
    const cmd = await waitFor('the CLI’s command', () => commands.find((c) => c.message.data.requestedBy === 'cli-operator'));
    expect(openPassword(cmd.message.data, [contoso])).toEqual({ newPassword: PASSWORDS.cli });
    expect(cmd.message.data.forceChangeAtNextLogon).toBe(true);
    await publishOutcome(cmd.message.data, 'success', null);
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toContain(`operation ${cmd.message.data.operationId}: set succeeded (person ${PERSON}), requested by cli-operator`);
    expect(cli.output()).toContain(`CONTOSO\\pwtest (nt4-contoso ${SID}): success`);
    responses.push(cli.output());
  });

  it('mw password set on a terminal prompts twice without echo', async () => {
    // A pseudo-terminal from Python's pty module: type at each prompt, record everything the terminal shows.
    const driver = `
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b''
def until(marker, t=60):
    global out
    end = time.time() + t
    while marker not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try: out += os.read(fd, 4096)
            except OSError: break
secret = os.environ['TYPED'].encode()
until(b'New password: '); os.write(fd, secret + b'\\r')
until(b'again: '); os.write(fd, secret + b'\\r')
until(b'\\x00', 20)
sys.stdout.write(out.decode(errors='replace'))
`;
    const env = { PATH: process.env['PATH'] ?? '', MW_PASSWORD_URL: p.url('password-service', ''), MW_TOKEN: await token('tty-operator', ['password-set']), TYPED: PASSWORDS.tty };
    const shown = await new Promise<string>((resolve, reject) => {
      const child = spawn('python3', ['-c', driver, process.execPath, '-r', join(REPO_ROOT, 'tools', 'bin', 'register-paths.cjs'), join(REPO_ROOT, 'dist', 'apps', 'mw', 'src', 'main.js'), 'password', 'set', PERSON, '--target', `nt4-contoso/${SID}`], { cwd: REPO_ROOT, env });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.once('error', reject);
      child.once('exit', () => resolve(out));
    });
    const cmd = await waitFor('the command typed at the terminal', () => commands.find((c) => c.message.data.requestedBy === 'tty-operator'));
    expect(openPassword(cmd.message.data, [contoso])).toEqual({ newPassword: PASSWORDS.tty });
    expect(shown).toContain('New password again: ');
    expect(shown).toContain(`operation ${cmd.message.data.operationId}: set pending`);
    expect(shown).not.toContain(PASSWORDS.tty);
  });

  it('mw password change reads the old, then the new password from stdin', async () => {
    const cli = await mw(['password', 'change', 'nt4-contoso', SID], `${PASSWORDS.old}\n${PASSWORDS.changed}\n`, 'cli-user', []);
    expect(await cli.exited).toBe(0);
    const cmd = await waitFor('the CLI’s change command', () => commands.find((c) => c.message.data.requestedBy === 'cli-user'));
    expect(openPassword(cmd.message.data, [contoso])).toEqual({ oldPassword: PASSWORDS.old, newPassword: PASSWORDS.changed });
    expect(cli.output()).toMatch(/operation [0-9a-f-]{36}: change pending, requested by cli-user/);
    responses.push(cli.output());
  });

  it('leaks no password: not in its log, any topic, the spans, its database or an HTTP response', async () => {
    const service = p.processes['password-service']!;
    // Flush spans: a graceful stop exports what is batched.
    expect(await service.stop()).toBe(0);
    const logs = [...earlierLogs, service.logs].join('\n');
    const spanFile = join(p.traceDir, 'password-service.jsonl');
    const spans = existsSync(spanFile) ? readFileSync(spanFile, 'utf8') : '';
    const dump = execFileSync('pg_dump', ['--schema', p.schema('password-service'), p.stack['MW_PG_ADMIN_URL']!], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const kafkaBytes = Buffer.concat(await allRawRecords());
    const http = responses.join('\n');
    // The places searched hold what they should (a search of empty places proves nothing).
    expect(logs).toContain('password outcome');
    expect(spans).toContain('/api/v1/persons/');
    expect(dump).toContain('pwtest');
    expect(kafkaBytes.toString('latin1')).toContain('"type":"password.command"');
    for (const [name, secret] of Object.entries(PASSWORDS)) {
      for (const form of [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret, 'utf16le').toString('latin1'), Buffer.from(secret).toString('hex')]) {
        expect({ name, where: 'log', found: logs.includes(form) }).toEqual({ name, where: 'log', found: false });
        expect({ name, where: 'spans', found: spans.includes(form) }).toEqual({ name, where: 'spans', found: false });
        expect({ name, where: 'database', found: dump.includes(form) }).toEqual({ name, where: 'database', found: false });
        expect({ name, where: 'kafka', found: kafkaBytes.includes(Buffer.from(form, 'latin1')) }).toEqual({ name, where: 'kafka', found: false });
        expect({ name, where: 'http', found: http.includes(form) }).toEqual({ name, where: 'http', found: false });
      }
    }
  });
});

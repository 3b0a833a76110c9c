import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { TokenIssuer, generateSigningKeyPair } from '@metaweave/auth';
import { decodeMessage, TOPICS, type Message } from '@metaweave/contracts';
import { createKafka, MessageProducer } from '@metaweave/messaging';
import { generateRecipientKeyPair } from '@metaweave/secrets';
import { REPO_ROOT, waitFor } from '@metaweave/testing';
import { Pipeline } from '../e2e/harness';

/**
 * The password service's share of API-to-usable latency: from the HTTP request to the 202, and to
 * the sealed command being readable on Kafka by the NT4 connector (after the transactional outbox
 * and the relay), for `MW_BENCH_N` sequential sets (default 500) and a burst of `MW_BENCH_BURST`
 * concurrent ones (default 200); then how fast outcomes complete operations. The NT4 connector and
 * Samba's share (lease, SAMR set) is measured on the connector's side.
 * Run: `npm run bench -- test/bench/password-api`.
 */
jest.setTimeout(1_800_000);

const N = Number(process.env['MW_BENCH_N'] ?? 500);
const BURST = Number(process.env['MW_BENCH_BURST'] ?? 200);

function pct(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! * 10) / 10;
}

describe(`password API, ${N} sets + a burst of ${BURST}`, () => {
  const p = new Pipeline();
  const kafka = createKafka({ brokers: p.stack['KAFKA_BROKERS']!.split(','), clientId: `password-bench-${p.suffix}` });
  const producer = new MessageProducer({ kafka });
  const consumer = kafka.consumer({ groupId: `password-bench-${p.suffix}` });
  afterAll(async () => {
    await consumer.disconnect();
    await producer.disconnect();
    await p.dispose();
  });

  it('measures', async () => {
    const recipient = generateRecipientKeyPair('bench');
    const signing = generateSigningKeyPair();
    await p.start('password-service', {
      MW_PASSWORD_CONNECTORS: JSON.stringify([{ connector: 'nt4-contoso', domain: 'CONTOSO', kid: recipient.kid, publicKeyPem: recipient.publicKeyPem }]),
      MW_AUTH_PUBLIC_KEYS: signing.publicKeyPem,
      MW_LOG_LEVEL: 'warn',
      MW_OTEL_EXPORTER: 'none',
    });
    const token = await new TokenIssuer(signing.privateKeyPem, 'metaweave', 'metaweave').issue('bench', ['password-set']);
    const person = randomUUID();
    await producer.connect();
    const mv: Message<'mv.object.changed'> = {
      eventId: randomUUID(),
      type: 'mv.object.changed',
      schemaVersion: 2,
      occurredAt: new Date().toISOString(),
      source: 'join-engine',
      correlationId: randomUUID(),
      causationId: null,
      data: { mvObjectId: person, objectType: 'person', version: 1, change: 'projected', attributes: {}, connectors: [{ connector: 'nt4-contoso', anchor: 'S-1-5-21-1-2-3-1001', dn: 'CONTOSO\\bench', state: 'connected' }], lineage: [], rulesVersion: 'bench', cause: { connector: 'x', anchor: 'y', csVersion: 1 }, reason: 'join' },
    };
    await producer.send(p.topicPrefix + TOPICS.mvEvents.name, [{ key: person, message: mv }]);
    const schema = p.schema('password-service');
    await waitFor('the routing view', async () => ((await p.admin.query(`SELECT 1 FROM "${schema}".route WHERE mv_object_id = $1`, [person])).rowCount === 1 ? true : undefined));

    const arrived = new Map<string, { at: number; data: Message<'password.command'>['data'] }>();
    await consumer.connect();
    await consumer.subscribe({ topics: [p.topicPrefix + TOPICS.passwordCommands.name], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const m = decodeMessage(message.value, ['password.command']) as Message<'password.command'>;
        arrived.set(m.data.operationId, { at: performance.now(), data: m.data });
      },
    });

    const set = async () => {
      const t0 = performance.now();
      const res = await fetch(p.url('password-service', `/api/v1/persons/${person}/password`), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ newPassword: `Bench-${randomUUID()}` }),
      });
      const t202 = performance.now();
      const body = (await res.json()) as { operationId: string };
      if (res.status !== 202) throw new Error(`status ${res.status}: ${JSON.stringify(body)}`);
      return { operationId: body.operationId, t0, accepted: t202 - t0 };
    };
    const onKafka = async (runs: { operationId: string; t0: number }[]) => {
      await waitFor(`${runs.length} commands on Kafka`, () => (runs.every((r) => arrived.has(r.operationId)) ? true : undefined), 300_000, 20);
      return runs.map((r) => arrived.get(r.operationId)!.at - r.t0);
    };

    // Warm-up (JIT, connection pools), not measured.
    for (let i = 0; i < 20; i++) await set();

    const sequential: Awaited<ReturnType<typeof set>>[] = [];
    const tSeq = performance.now();
    for (let i = 0; i < N; i++) {
      const r = await set();
      sequential.push(r);
      await waitFor('the command', () => (arrived.has(r.operationId) ? true : undefined), 60_000, 1);
    }
    const seqMs = performance.now() - tSeq;
    const seqKafka = await onKafka(sequential);

    const tBurst = performance.now();
    const burst = await Promise.all(Array.from({ length: BURST }, () => set()));
    const burstKafka = await onKafka(burst);
    const burstMs = performance.now() - tBurst;

    // Outcomes for every measured operation: how fast they complete operations.
    const all = [...sequential, ...burst];
    const tOut = performance.now();
    const outcomes = all.map((r) => {
      const d = arrived.get(r.operationId)!.data;
      const completedAt = new Date().toISOString();
      return {
        key: `${d.connector}/${d.domain}`,
        message: {
          eventId: randomUUID(),
          type: 'password.outcome',
          schemaVersion: 1,
          occurredAt: completedAt,
          source: 'nt4-connector',
          correlationId: d.operationId,
          causationId: d.commandId,
          data: { commandId: d.commandId, operationId: d.operationId, connector: d.connector, domain: d.domain, anchor: d.anchor, accountName: d.accountName, op: d.op, result: 'success', message: null, completedAt },
        } as Message<'password.outcome'>,
      };
    });
    for (let i = 0; i < outcomes.length; i += 100) await producer.send(p.topicPrefix + TOPICS.passwordOutcomes.name, outcomes.slice(i, i + 100));
    await waitFor('every operation completed', async () => {
      const { rows } = await p.admin.query(`SELECT count(*)::int AS n FROM "${schema}".password_target WHERE result = 'success' AND operation_id = ANY($1)`, [all.map((r) => r.operationId)]);
      return rows[0].n === all.length ? true : undefined;
    }, 300_000, 100);
    const outMs = performance.now() - tOut;

    const rows = {
      [`sequential: request → 202 (n=${N})`]: { p50ms: pct(sequential.map((r) => r.accepted), 0.5), p99ms: pct(sequential.map((r) => r.accepted), 0.99), perSecond: null },
      [`sequential: request → sealed command on Kafka (n=${N})`]: { p50ms: pct(seqKafka, 0.5), p99ms: pct(seqKafka, 0.99), perSecond: Math.round((N / seqMs) * 1000) },
      [`burst of ${BURST} concurrent: request → 202`]: { p50ms: pct(burst.map((r) => r.accepted), 0.5), p99ms: pct(burst.map((r) => r.accepted), 0.99), perSecond: null },
      [`burst of ${BURST} concurrent: request → command on Kafka`]: { p50ms: pct(burstKafka, 0.5), p99ms: pct(burstKafka, 0.99), perSecond: Math.round((BURST / burstMs) * 1000) },
      [`${all.length} outcomes → operations completed`]: { p50ms: null, p99ms: null, perSecond: Math.round((all.length / outMs) * 1000) },
    };
    process.stdout.write(`\nPassword service, ${N} sequential sets + ${BURST} concurrent (this machine, ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})\n`);
    // eslint-disable-next-line no-console -- a benchmark prints its table
    console.table(rows);
    const file = join(REPO_ROOT, 'bench-results.json');
    const results = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    results[`password-api-${N}`] = { at: new Date().toISOString(), loadAverage: loadavg(), sets: N, burst: BURST, ...rows };
    writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  });
});

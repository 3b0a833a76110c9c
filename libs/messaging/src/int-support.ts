/**
 * Helpers of this library's integration tests (`*.int.spec.ts`): real Kafka and PostgreSQL from
 * deploy/local/stack.sh, a random topic / group / schema per test. Not exported from index.ts.
 */
import { randomBytes } from 'node:crypto';
import { EnvelopeFactory, type Message } from '@metaweave/contracts';
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { Pool } from 'pg';
import { stackEnv } from '@metaweave/testing';
import { createKafka, parseBrokers } from './kafka';
import type { Logger } from './logger';
import { ensureTopics } from './topics';

export const INT_TIMEOUT_MS = 120_000;

export function brokers(): string[] {
  return parseBrokers(process.env['KAFKA_BROKERS'] ?? stackEnv()['KAFKA_BROKERS']!);
}

/** The local stack's admin URL (MW_PG_ADMIN_URL of `deploy/local/stack.sh env`), or DATABASE_URL. */
export function adminDatabaseUrl(): string {
  const url = process.env['MW_PG_ADMIN_URL'] ?? process.env['DATABASE_URL'] ?? stackEnv()['MW_PG_ADMIN_URL'];
  if (!url) throw new Error('no PostgreSQL admin URL: is the local stack up? (npx mw stack up --infra-only)');
  return url;
}

export function openAdminPool(max = 5): Pool {
  return new Pool({ connectionString: adminDatabaseUrl(), max, application_name: 'messaging-int-test' });
}

export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** A logger that keeps every line, for assertions on what was (and was not) logged. */
export class CollectingLogger implements Logger {
  readonly lines: { level: 'debug' | 'info' | 'warn' | 'error'; obj: Record<string, unknown>; msg: string }[] = [];
  debug(obj: object, msg: string): void {
    this.lines.push({ level: 'debug', obj: obj as Record<string, unknown>, msg });
  }
  info(obj: object, msg: string): void {
    this.lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg });
  }
  warn(obj: object, msg: string): void {
    this.lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg });
  }
  error(obj: object, msg: string): void {
    this.lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg });
  }
  at(level: 'debug' | 'info' | 'warn' | 'error'): { obj: Record<string, unknown>; msg: string }[] {
    return this.lines.filter((l) => l.level === level);
  }
}

export function testKafka(logger: Logger, clientId = unique('mw-int')): Kafka {
  return createKafka({ brokers: brokers(), clientId, logger, logLevel: 'warn' });
}

/** Creates a random topic and its dead-letter topic; returns the topic name. */
export async function createTopic(kafka: Kafka, logger: Logger, partitions = 1, prefix = 'mw-int'): Promise<string> {
  const topic = unique(prefix);
  await ensureTopics(
    kafka,
    [
      { name: topic, partitions, retentionMs: 3_600_000, description: 'integration test' },
      { name: `${topic}.dlq`, partitions: 1, retentionMs: 3_600_000, description: 'integration test dead letters' },
    ],
    logger,
  );
  return topic;
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics, timeout: 30000 });
  } finally {
    await admin.disconnect();
  }
}

/** Polls `condition` every 50 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A promise with its resolve function outside, to hold a handler until the test says so. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export interface RawReceived {
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders;
}

/** Reads `count` records of `topic` from the beginning with a throw-away group (plain kafkajs, no library code). */
export async function readRaw(kafka: Kafka, topic: string, count: number, timeoutMs = 60_000): Promise<RawReceived[]> {
  const consumer = kafka.consumer({ groupId: unique('mw-int-reader'), maxWaitTimeInMs: 500 });
  const got: RawReceived[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
        got.push({ partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {} });
      },
    });
    await waitFor(`${count} records on ${topic} (have ${got.length})`, () => got.length >= count, timeoutMs);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

/** Number of records ever written to `topic` (sum of high watermarks). */
export async function recordCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** The group's committed offset per partition (-1: nothing committed). */
export async function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<Record<number, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Object.fromEntries((entry?.partitions ?? []).map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}

const envelopes = new EnvelopeFactory({ source: 'messaging-int-test' });

/** A valid cs.object.changed message for object `anchor` at version `csVersion`. */
export function csChange(anchor: string, csVersion: number): Message<'cs.object.changed'> {
  return envelopes.create({
    type: 'cs.object.changed',
    schemaVersion: 1,
    data: {
      connector: 'exchange',
      partition: 'SiteA',
      anchor,
      objectType: 'mailbox',
      dn: `cn=${anchor},cn=Recipients,ou=SiteA,o=Contoso`,
      previousDn: null,
      change: csVersion === 1 ? 'add' : 'update',
      attributes: { uid: [anchor], mail: [`${anchor}@contoso.com`] },
      delta: [],
      csVersion,
    },
  });
}

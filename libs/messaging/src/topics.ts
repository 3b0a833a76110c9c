import type { TopicSpec } from '@metaweave/contracts';
import { ConfigResourceTypes, type Admin, type Kafka } from 'kafkajs';
import { backoffDelay, sleep } from './backoff';
import { TopicMismatchError } from './errors';
import { errorFields, type Logger } from './logger';
import { isRetriable } from './retriable';

export interface EnsureTopicsOptions {
  /** Replication factor of topics this call creates. Default: min(3, brokers in the cluster). */
  readonly replicationFactor?: number;
  /** Broker-side timeout for topic creation, ms. Default 30000. */
  readonly timeoutMs?: number;
}

export interface EnsureTopicsResult {
  readonly created: readonly string[];
  readonly existing: readonly string[];
}

/**
 * Makes every topic of `specs` exist with its partition count and `retention.ms` (`-1` = keep
 * forever). Missing topics are created one by one; a topic that exists is checked: a different
 * partition count throws `TopicMismatchError` (repartitioning breaks per-key order, so it is an
 * operator's decision, never automatic); a different retention is only logged at warn.
 *
 * Idempotent and safe when several processes call it at once: losing the creation race
 * (TOPIC_ALREADY_EXISTS) is fine, the topic is then checked like any existing one.
 */
export async function ensureTopics(
  kafka: Kafka,
  specs: readonly TopicSpec[],
  logger: Logger,
  options: EnsureTopicsOptions = {},
): Promise<EnsureTopicsResult> {
  const names = new Set<string>();
  for (const spec of specs) {
    if (names.has(spec.name)) throw new RangeError(`ensureTopics: topic ${spec.name} is listed twice`);
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) throw new RangeError(`ensureTopics: ${spec.name}: partitions must be a positive integer`);
    names.add(spec.name);
  }
  if (specs.length === 0) return { created: [], existing: [] };

  const admin = kafka.admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !present.has(s.name));
    const created: string[] = [];
    if (missing.length > 0) {
      const replicationFactor = options.replicationFactor ?? Math.min(3, (await admin.describeCluster()).brokers.length);
      for (const spec of missing) {
        const didCreate = await createTopicRetrying(admin, logger, {
          topics: [
            {
              topic: spec.name,
              numPartitions: spec.partitions,
              replicationFactor,
              configEntries: [{ name: 'retention.ms', value: String(spec.retentionMs) }],
            },
          ],
          waitForLeaders: true,
          timeout: options.timeoutMs ?? 30000,
        });
        if (didCreate) {
          created.push(spec.name);
          logger.info({ topic: spec.name, partitions: spec.partitions, retentionMs: spec.retentionMs, replicationFactor }, 'created topic');
        } else {
          logger.info({ topic: spec.name }, 'topic was created concurrently by another process');
        }
      }
    }

    // A topic another process has just created may not have its leaders yet ("This server does not
    // host this topic-partition", retriable): several services starting together meet exactly that.
    for (let attempt = 1; ; attempt++) {
      try {
        await checkExisting(admin, specs, logger);
        break;
      } catch (err) {
        if (!isRetriable(err) || attempt >= 10) throw err;
        const delayMs = backoffDelay(attempt, { initialBackoffMs: 100, maxBackoffMs: 3000 });
        logger.info({ attempt, delayMs, ...errorFields(err) }, 'topics not ready yet; checking again');
        await sleep(delayMs);
      }
    }
    return { created, existing: specs.map((s) => s.name).filter((n) => !created.includes(n)) };
  } finally {
    await admin.disconnect().catch((err: unknown) => logger.warn(errorFields(err), 'ensureTopics: admin disconnect failed'));
  }
}

/**
 * `createTopics` with `waitForLeaders` fails with a retriable "This server does not host this
 * topic-partition" when another process created the same topic a moment earlier and its leaders
 * are not elected yet (five services starting on a fresh broker): ask again, it then exists.
 */
async function createTopicRetrying(admin: Admin, logger: Logger, request: Parameters<Admin['createTopics']>[0]): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await admin.createTopics(request);
    } catch (err) {
      if (!isRetriable(err) || attempt >= 10) throw err;
      const delayMs = backoffDelay(attempt, { initialBackoffMs: 100, maxBackoffMs: 3000 });
      logger.info({ attempt, delayMs, topic: request.topics[0]?.topic, ...errorFields(err) }, 'topic not ready yet; asking again');
      await sleep(delayMs);
    }
  }
}

async function checkExisting(admin: Admin, specs: readonly TopicSpec[], logger: Logger): Promise<void> {
  const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
  const actual = new Map(topics.map((t) => [t.name, t.partitions.length]));
  const mismatches = specs
    .map((s) => ({ topic: s.name, expected: s.partitions, actual: actual.get(s.name) ?? 0 }))
    .filter((m) => m.expected !== m.actual);
  if (mismatches.length > 0) {
    const list = mismatches.map((m) => `${m.topic} has ${m.actual} partitions, expected ${m.expected}`).join('; ');
    throw new TopicMismatchError(
      `topic partition count differs from its spec: ${list}. Changing the partition count of an existing topic moves keys to other ` +
        `partitions and breaks per-key order; fix the spec or migrate the topic deliberately.`,
      mismatches,
    );
  }

  const { resources } = await admin.describeConfigs({
    resources: specs.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.name, configNames: ['retention.ms'] })),
    includeSynonyms: false,
  });
  for (const spec of specs) {
    const value = resources.find((r) => r.resourceName === spec.name)?.configEntries.find((c) => c.configName === 'retention.ms')?.configValue;
    if (value !== undefined && value !== String(spec.retentionMs)) {
      logger.warn({ topic: spec.name, expected: spec.retentionMs, actual: Number(value) }, 'topic retention.ms differs from its spec (left as is)');
    }
  }
}

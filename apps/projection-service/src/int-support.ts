/**
 * Helpers of this service's integration tests: the service in-process (its real Nest module) on the
 * real Kafka and PostgreSQL of deploy/local/stack.sh, with its own topic prefix, schema, consumer
 * groups and signing key per test file. Not used by production code.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { generateSigningKeyPair, TokenIssuer, type Role } from '@metaweave/auth';
import { EnvelopeFactory, topicSpecs, TOPICS, type Message, type MessageType, type MessageTypes } from '@metaweave/contracts';
import { createKafka, ensureTopics, MessageProducer, parseBrokers } from '@metaweave/messaging';
import { createLogger, loadConfig, PinoNestLogger } from '@metaweave/platform';
import { freePort, stackEnv, uniqueSuffix } from '@metaweave/testing';
import type { Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { AppModule } from './app.module';
import { configSchema } from './config';

export class ProjectionUnderTest {
  readonly suffix = uniqueSuffix();
  readonly prefix = `pj-${this.suffix}.`;
  readonly schema = `pj_${this.suffix}`;
  readonly stack = stackEnv();
  readonly keys = generateSigningKeyPair();
  readonly issuer = new TokenIssuer(this.keys.privateKeyPem, 'metaweave', 'metaweave');
  readonly admin = new Pool({ connectionString: this.stack['MW_PG_ADMIN_URL'], max: 3 });
  readonly logger = createLogger('projection-service', process.env['MW_LOG_LEVEL'] ?? 'warn');
  readonly kafka: Kafka = createKafka({ brokers: parseBrokers(this.stack['KAFKA_BROKERS']!), clientId: `pj-int-${this.suffix}`, logLevel: 'nothing' });
  readonly factory = new EnvelopeFactory({ source: 'int-test' });
  private producer?: MessageProducer;
  app?: INestApplication;
  port = 0;

  constructor(private readonly extraEnv: Record<string, string> = {}) {}

  env(): Record<string, string> {
    return {
      MW_KAFKA_BROKERS: this.stack['KAFKA_BROKERS']!,
      MW_TOPIC_PREFIX: this.prefix,
      MW_DATABASE_URL: this.stack['MW_PG_ADMIN_URL']!,
      MW_DATABASE_SCHEMA: this.schema,
      MW_HTTP_PORT: String(this.port || 1),
      MW_HTTP_HOST: '127.0.0.1',
      MW_AUTH_PUBLIC_KEYS: this.keys.publicKeyPem,
      ...this.extraEnv,
    };
  }

  /** Starts the service (again, after stop(): same schema, same groups). */
  async start(): Promise<this> {
    this.port ||= await freePort();
    await ensureTopics(this.kafka, topicSpecs(this.prefix), this.logger);
    const config = loadConfig(configSchema, this.env());
    this.app = await NestFactory.create(AppModule.register(config, this.logger) as never, { logger: new PinoNestLogger(this.logger), abortOnError: false });
    await this.app.listen(this.port, '127.0.0.1');
    return this;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    this.app = undefined;
  }

  token(roles: Role[], subject = 'int-test'): Promise<string> {
    return this.issuer.issue(subject, roles);
  }

  async call<T = Record<string, unknown>>(
    path: string,
    options: { roles?: Role[] | null; method?: 'GET' | 'POST'; body?: unknown; token?: string } = {},
  ): Promise<{ status: number; body: T; type: string | null }> {
    const roles = options.roles === undefined ? (['browse'] as Role[]) : options.roles;
    const token = options.token ?? (roles ? await this.token(roles) : undefined);
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`, {
      method: options.method ?? 'GET',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T, type: res.headers.get('content-type') };
  }

  message<T extends MessageType>(type: T, data: MessageTypes[T], schemaVersion = 1): Message<T> {
    return this.factory.create({ type, schemaVersion, data }) as Message<T>;
  }

  async publish(topic: keyof typeof TOPICS, items: { key: string; message: Message }[]): Promise<void> {
    if (!this.producer) {
      this.producer = new MessageProducer({ kafka: this.kafka, logger: this.logger });
      await this.producer.connect();
    }
    for (let i = 0; i < items.length; i += 500) await this.producer.send(this.prefix + TOPICS[topic].name, items.slice(i, i + 500));
  }

  /** Raw bytes on a topic (malformed input). */
  async publishRaw(topic: keyof typeof TOPICS, key: string, value: string): Promise<void> {
    if (!this.producer) {
      this.producer = new MessageProducer({ kafka: this.kafka, logger: this.logger });
      await this.producer.connect();
    }
    await this.producer.sendRaw(this.prefix + TOPICS[topic].name, [{ key, value }]);
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.admin.query(sql, params)).rows as T[];
  }

  async dispose(): Promise<void> {
    await this.stop().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    const schemas = await this.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${this.schema}%`]);
    for (const s of schemas) await this.admin.query(`DROP SCHEMA IF EXISTS "${s.nspname}" CASCADE`);
    await this.admin.end();
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(this.prefix));
      if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 });
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(this.prefix));
      if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
    } finally {
      await admin.disconnect();
    }
  }
}

import { settings } from '@metaweave/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'password-service';

export const configSchema = z
  .object({ ...settings.kafka, ...settings.database, ...settings.http, ...settings.telemetry, ...settings.log })
  .transform((e) => ({
    kafka: { brokers: e.MW_KAFKA_BROKERS, topicPrefix: e.MW_TOPIC_PREFIX, groupId: `${e.MW_TOPIC_PREFIX}password-service` },
    database: { url: e.MW_DATABASE_URL, schema: e.MW_DATABASE_SCHEMA },
    http: { port: e.MW_HTTP_PORT, host: e.MW_HTTP_HOST },
    telemetry: { exporter: e.MW_OTEL_EXPORTER, otlpEndpoint: e.MW_OTEL_ENDPOINT, filePath: e.MW_OTEL_FILE, sampleRatio: e.MW_OTEL_SAMPLE_RATIO },
    logLevel: e.MW_LOG_LEVEL,
  }));

export type PasswordServiceConfig = z.output<typeof configSchema>;
export const CONFIG = Symbol('PasswordServiceConfig');

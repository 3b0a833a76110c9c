import { z } from 'zod';

export interface ConfigProblem {
  readonly key: string;
  readonly message: string;
}

/** A service's configuration is missing or invalid; the message names every bad key. */
export class ConfigError extends Error {
  readonly retriable = false;
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.key}: ${p.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment against a schema whose keys are the variable names, then maps it to
 * the service's typed configuration object.
 */
export function loadConfig<T>(schema: z.ZodType<T>, env: NodeJS.ProcessEnv = process.env): T {
  const problems: ConfigProblem[] = [];
  const result = schema.safeParse(env);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = issue.path.map(String).join('.') || '(environment)';
      const message = issue.code === 'invalid_type' && env[key] === undefined ? 'required but not set' : issue.message;
      problems.push({ key, message });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return (result as { data: T }).data;
}

const csv = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** Reusable pieces of service configuration, keyed by environment variable. */
export const settings = {
  kafka: {
    MW_KAFKA_BROKERS: z
      .string()
      .min(1)
      .transform(csv)
      .refine((l) => l.length > 0 && l.every((b) => /^[^\s:]+:\d{1,5}$/.test(b)), 'expected host:port[,host:port...]'),
    MW_TOPIC_PREFIX: z.string().regex(/^[a-zA-Z0-9._-]*$/, 'letters, digits, . _ - only').default(''),
  },
  database: {
    MW_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL'),
    MW_DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lower-case SQL identifier'),
  },
  http: {
    MW_HTTP_PORT: z.coerce.number().int().min(1).max(65535),
    MW_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  },
  telemetry: {
    MW_OTEL_EXPORTER: z.enum(['otlp', 'file', 'none']).default('none'),
    MW_OTEL_ENDPOINT: z.string().url().optional(),
    MW_OTEL_FILE: z.string().min(1).optional(),
    MW_OTEL_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(1),
    /** Prometheus scrape port (GET /metrics); 0 = off. */
    MW_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
    MW_METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  },
  log: {
    MW_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  },
} as const;

/** The settings every service has: Kafka, its database schema, HTTP, tracing, logging. */
export const serviceSettings = { ...settings.kafka, ...settings.database, ...settings.http, ...settings.telemetry, ...settings.log } as const;

type ServiceEnv = z.output<z.ZodObject<typeof serviceSettings>>;

/** The typed part of every service's configuration, from the validated environment. */
export function baseServiceConfig(e: ServiceEnv, service: string) {
  return {
    kafka: { brokers: e.MW_KAFKA_BROKERS, topicPrefix: e.MW_TOPIC_PREFIX, groupId: `${e.MW_TOPIC_PREFIX}${service}` },
    database: { url: e.MW_DATABASE_URL, schema: e.MW_DATABASE_SCHEMA },
    http: { port: e.MW_HTTP_PORT, host: e.MW_HTTP_HOST },
    telemetry: { exporter: e.MW_OTEL_EXPORTER, otlpEndpoint: e.MW_OTEL_ENDPOINT, filePath: e.MW_OTEL_FILE, sampleRatio: e.MW_OTEL_SAMPLE_RATIO, metricsPort: e.MW_METRICS_PORT, metricsHost: e.MW_METRICS_HOST },
    logLevel: e.MW_LOG_LEVEL,
  };
}

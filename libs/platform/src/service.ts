import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError } from './config';
import { createLogger, PinoNestLogger, type Logger } from './logger';

export interface ServiceHandle {
  readonly app: INestApplication;
  readonly logger: Logger;
}

/**
 * `node dist/apps/<service>/main.js --migrate-only` (or MW_MIGRATE_ONLY=true): apply the database
 * migrations and create the Kafka topics, then exit 0 without serving — the Helm pre-install /
 * pre-upgrade Job runs the service image this way.
 */
export function migrateOnlyRequested(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): boolean {
  return argv.includes('--migrate-only') || env['MW_MIGRATE_ONLY'] === 'true';
}

export interface RunServiceOptions {
  readonly name: string;
  readonly logLevel: string;
  readonly http: { readonly port: number; readonly host: string };
  /** Serve HTTPS instead of HTTP with this key and certificate (PEM). */
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer };
  /** Builds the root module; called after telemetry started so instrumentations see every require. */
  readonly module: (logger: Logger) => Promise<unknown>;
  /** Called last on shutdown, after the app closed (e.g. flush telemetry). */
  readonly onShutdown?: () => Promise<void>;
}

/**
 * Starts one Nest service: structured logs, HTTP (health, API), graceful shutdown on SIGTERM/SIGINT
 * that drains consumers (module destroy hooks) before the process exits.
 */
export async function runService(options: RunServiceOptions): Promise<ServiceHandle> {
  const logger = createLogger(options.name, options.logLevel);
  const rootModule = await options.module(logger);
  const app = await NestFactory.create(rootModule as never, {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
    ...(options.tls ? { httpsOptions: { key: options.tls.key, cert: options.tls.cert } } : {}),
  });
  if (migrateOnlyRequested()) {
    // Creating the application resolved the infrastructure providers: migrations applied, topics
    // exist. Nothing was started (lifecycle hooks run at listen), so there is nothing to drain.
    logger.info('migrate-only: database migrations applied and Kafka topics ensured; exiting');
    await options.onShutdown?.();
    process.exit(0);
  }
  // No app.enableShutdownHooks(): given no signals Nest listens to all of them and would close the
  // app a second time next to ours (our handler orders drain → close → telemetry flush → exit).
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out, exiting');
      process.exit(1);
    }, 25_000);
    try {
      await app.close();
      await options.onShutdown?.();
      clearTimeout(timer);
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await app.listen(options.http.port, options.http.host);
  logger.info({ port: options.http.port, host: options.http.host, tls: options.tls !== undefined }, `${options.name} listening`);
  return { app, logger };
}

/**
 * Reports a fatal start-up error and exits non-zero: a ConfigError as one line naming each bad
 * setting (exit 78, EX_CONFIG), anything else with its message (exit 1).
 */
export function exitOnStartupError(service: string, error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`${service}: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}

import { exitOnStartupError, loadConfig, runService } from '@metaweave/platform';
import { startTelemetry } from '@metaweave/telemetry';
import { configSchema, SERVICE_NAME } from './config';

async function main(): Promise<void> {
  const config = loadConfig(configSchema);
  const telemetry = startTelemetry({ serviceName: SERVICE_NAME, ...config.telemetry });
  await runService({
    name: SERVICE_NAME,
    logLevel: config.logLevel,
    http: config.http,
    ...(config.tls ? { tls: config.tls } : {}),
    module: async (logger) => (await import('./app.module')).AppModule.register(config, logger),
    onShutdown: () => telemetry.shutdown(),
  });
}

main().catch((error: unknown) => exitOnStartupError(SERVICE_NAME, error));

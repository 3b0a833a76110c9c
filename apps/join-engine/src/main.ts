import { ConfigError, exitOnStartupError, loadConfig, runService } from '@metaweave/platform';
import { RulesError } from '@metaweave/sync-rules';
import { startTelemetry } from '@metaweave/telemetry';
import { configSchema, SERVICE_NAME } from './config';
import { loadRulesHolder } from './sync/synchronizer';

async function main(): Promise<void> {
  const config = loadConfig(configSchema);
  // A bad rules file is a bad configuration: exit 78 with the loader's file/path/reason message.
  const rules = await loadRulesHolder(config).catch((error: unknown) => {
    throw error instanceof RulesError ? new ConfigError([{ key: 'MW_RULES_FILE', message: error.message }]) : error;
  });
  const telemetry = startTelemetry({ serviceName: SERVICE_NAME, ...config.telemetry });
  await runService({
    name: SERVICE_NAME,
    logLevel: config.logLevel,
    http: config.http,
    module: async (logger) => (await import('./app.module')).AppModule.register(config, logger, rules),
    onShutdown: () => telemetry.shutdown(),
  });
}

main().catch((error: unknown) => exitOnStartupError(SERVICE_NAME, error));

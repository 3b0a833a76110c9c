import { Module, type DynamicModule } from '@nestjs/common';
import { HealthModule, infrastructureProviders, type Logger } from '@metaweave/platform';
import { CONFIG, SERVICE_NAME, type PasswordServiceConfig } from './config';

/**
 * Foundation only: configuration, health, its own database schema and Kafka topics. The
 * password-service issue adds its capabilities (see the issue tracker).
 */
@Module({})
export class AppModule {
  static register(config: PasswordServiceConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [HealthModule.forRoot()],
      providers: [
        { provide: CONFIG, useValue: config },
        ...infrastructureProviders({ service: SERVICE_NAME, logger, kafka: config.kafka, database: { ...config.database, migrations: [] } }),
      ],
    };
  }
}

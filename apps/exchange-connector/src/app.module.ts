import { Module, type DynamicModule } from '@nestjs/common';
import { HealthModule, infrastructureProviders, outboxProviders, type Logger } from '@metaweave/platform';
import { RunsController } from './api/runs.controller';
import { ConnectionController, SchemaController } from './api/schema.controller';
import { CONFIG, SERVICE_NAME, type ExchangeConfig } from './config';
import { Runs } from './import/runs';
import { Init1732320000000 } from './migrations/1732320000000-init';
import { SchemaSnapshot1732320000050 } from './migrations/1732320000050-schema-snapshot';
import { ExportState1732320000060 } from './migrations/1732320000060-export-state';

@Module({})
export class AppModule {
  static register(config: ExchangeConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [HealthModule.forRoot()],
      controllers: [RunsController, SchemaController, ConnectionController],
      providers: [
        { provide: CONFIG, useValue: config },
        ...infrastructureProviders({
          service: SERVICE_NAME,
          logger,
          kafka: config.kafka,
          database: { ...config.database, migrations: [Init1732320000000, SchemaSnapshot1732320000050, ExportState1732320000060] },
        }),
        ...outboxProviders({ service: SERVICE_NAME, ...config.database }),
        Runs,
      ],
    };
  }
}

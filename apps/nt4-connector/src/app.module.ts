import { Module, type DynamicModule } from '@nestjs/common';
import { HealthModule, infrastructureProviders, outboxProviders, type Logger } from '@metaweave/platform';
import { RunsController } from './api/runs.controller';
import { CONFIG, SERVICE_NAME, type Nt4Config } from './config';
import { Runs } from './domain/runs';
import { Init1732320000000 } from './migrations/1732320000000-init';
import { LeaseAndPasswords1732400000000 } from './migrations/1732400000000-lease-and-passwords';

@Module({})
export class AppModule {
  static register(config: Nt4Config, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [HealthModule.forRoot()],
      controllers: [RunsController],
      providers: [
        { provide: CONFIG, useValue: config },
        ...infrastructureProviders({ service: SERVICE_NAME, logger, kafka: config.kafka, database: { ...config.database, migrations: [Init1732320000000, LeaseAndPasswords1732400000000] } }),
        ...outboxProviders({ service: SERVICE_NAME, ...config.database }),
        Runs,
      ],
    };
  }
}

import { Module, type DynamicModule } from '@nestjs/common';
import { HealthModule, infrastructureProviders, outboxProviders, type Logger } from '@metaweave/platform';
import { CONFIG, SERVICE_NAME, type JoinEngineConfig } from './config';
import { Init1732320000000 } from './migrations/1732320000000-init';
import { Synchronizer } from './sync/synchronizer';

@Module({})
export class AppModule {
  static register(config: JoinEngineConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [HealthModule.forRoot()],
      providers: [
        { provide: CONFIG, useValue: config },
        ...infrastructureProviders({
          service: SERVICE_NAME,
          logger,
          kafka: config.kafka,
          database: { ...config.database, migrations: [Init1732320000000] },
        }),
        ...outboxProviders({ service: SERVICE_NAME, ...config.database }),
        Synchronizer,
      ],
    };
  }
}

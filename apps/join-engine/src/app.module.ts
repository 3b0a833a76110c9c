import { Module, type DynamicModule } from '@nestjs/common';
import { HealthModule, infrastructureProviders, outboxProviders, type Logger } from '@metaweave/platform';
import { CONFIG, SERVICE_NAME, type JoinEngineConfig } from './config';
import { Init1732320000000 } from './migrations/1732320000000-init';
import { WriteModel1732600000000 } from './migrations/1732600000000-write-model';
import { ApiController } from './sync/api.controller';
import type { RulesHolder } from './engine/rules-holder';
import { RULES, Synchronizer } from './sync/synchronizer';

@Module({})
export class AppModule {
  static register(config: JoinEngineConfig, logger: Logger, rules: RulesHolder): DynamicModule {
    return {
      module: AppModule,
      imports: [HealthModule.forRoot()],
      controllers: [ApiController],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: RULES, useValue: rules },
        ...infrastructureProviders({
          service: SERVICE_NAME,
          logger,
          kafka: config.kafka,
          database: { ...config.database, migrations: [Init1732320000000, WriteModel1732600000000] },
        }),
        ...outboxProviders({ service: SERVICE_NAME, ...config.database }),
        Synchronizer,
      ],
    };
  }
}

import { Module, type DynamicModule } from '@nestjs/common';
import { HealthModule, infrastructureProviders, type Logger } from '@metaweave/platform';
import { ObjectsController } from './api/objects.controller';
import { CONFIG, SERVICE_NAME, type ProjectionConfig } from './config';
import { Init1732320000000 } from './migrations/1732320000000-init';
import { Projector } from './read-model/projector';

@Module({})
export class AppModule {
  static register(config: ProjectionConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [HealthModule.forRoot()],
      controllers: [ObjectsController],
      providers: [
        { provide: CONFIG, useValue: config },
        ...infrastructureProviders({
          service: SERVICE_NAME,
          logger,
          kafka: config.kafka,
          database: { ...config.database, migrations: [Init1732320000000] },
        }),
        Projector,
      ],
    };
  }
}

import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { BearerAuthGuard, TOKEN_VERIFIER, TokenVerifier } from '@metaweave/auth';
import { HealthModule, infrastructureProviders, openDatabase, type Logger } from '@metaweave/platform';
import { DataSource } from 'typeorm';
import { ApiAuthGuard } from './api/auth';
import { HistoryController } from './api/history.controller';
import { ConnectorLinksController, ObjectsController } from './api/objects.controller';
import { OpenApiController } from './api/openapi.controller';
import { OperationsController } from './api/operations.controller';
import { Forwarder } from './api/forward';
import { ProblemFilter } from './api/problem';
import { ProjectionController } from './api/projection.controller';
import { CONFIG, SERVICE_NAME, type ProjectionConfig } from './config';
import { MIGRATIONS } from './migrations';
import { ActiveSchema } from './read-model/active-schema';
import { Projector } from './read-model/projector';
import { Rebuilder } from './read-model/rebuild';

@Module({})
export class AppModule {
  static register(config: ProjectionConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [HealthModule.forRoot()],
      controllers: [ObjectsController, ConnectorLinksController, HistoryController, OperationsController, ProjectionController, OpenApiController],
      providers: [
        { provide: CONFIG, useValue: config },
        ...infrastructureProviders({
          service: SERVICE_NAME,
          logger,
          kafka: config.kafka,
          database: { ...config.database, migrations: MIGRATIONS },
        }),
        {
          provide: ActiveSchema,
          inject: [DataSource],
          useFactory: async (db: DataSource) => {
            const active = await ActiveSchema.load(db, config.database.schema);
            if (active.current !== active.base) {
              // A rebuilt read model gets the same committed migrations as the service's own schema.
              const ds = await openDatabase({ url: config.database.url, schema: active.current, applicationName: SERVICE_NAME, migrations: MIGRATIONS, poolSize: 1 });
              await ds.destroy();
            }
            for (const schema of await active.leftovers(db)) {
              logger.warn({ schema }, 'dropping a read model left by an interrupted rebuild');
              await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
            }
            return active;
          },
        },
        { provide: TOKEN_VERIFIER, useValue: new TokenVerifier(config.auth) },
        BearerAuthGuard,
        { provide: APP_GUARD, useClass: ApiAuthGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
        Forwarder,
        Projector,
        Rebuilder,
      ],
    };
  }
}

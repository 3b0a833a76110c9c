import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { BearerAuthGuard, TOKEN_VERIFIER, TokenVerifier } from '@metaweave/auth';
import { HealthModule, infrastructureProviders, outboxProviders, type Logger } from '@metaweave/platform';
import { OpenApiController } from './api/openapi';
import { PasswordController } from './api/password.controller';
import { ProblemFilter } from './api/problem';
import { CONFIG, SERVICE_NAME, type PasswordServiceConfig } from './config';
import { Init1732330000000 } from './migrations/1732330000000-init';
import { Operations } from './operations/operations';
import { OutcomeConsumer } from './operations/outcome-consumer';
import { RoutingView } from './routing/routing-view';

/**
 * The password service: routing view from MV events, the password API (bearer auth, problem+json
 * errors, OpenAPI), sealed commands through the outbox, outcomes completing operations.
 */
@Module({})
export class AppModule {
  static register(config: PasswordServiceConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [HealthModule.forRoot()],
      controllers: [PasswordController, OpenApiController],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: 'CLOCK', useValue: () => new Date() },
        { provide: TOKEN_VERIFIER, useValue: new TokenVerifier(config.auth) },
        { provide: APP_FILTER, useClass: ProblemFilter },
        BearerAuthGuard,
        ...infrastructureProviders({ service: SERVICE_NAME, logger, kafka: config.kafka, database: { ...config.database, migrations: [Init1732330000000] } }),
        ...outboxProviders({ service: SERVICE_NAME, ...config.database }),
        RoutingView,
        Operations,
        OutcomeConsumer,
      ],
    };
  }
}

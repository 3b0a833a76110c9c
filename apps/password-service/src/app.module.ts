import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { BearerAuthGuard, TOKEN_VERIFIER, TokenRejected, TokenVerifier } from '@metaweave/auth';
import { HealthModule, infrastructureProviders, outboxProviders, type Logger } from '@metaweave/platform';
import { OpenApiController } from './api/openapi';
import { PasswordController } from './api/password.controller';
import { ProblemFilter } from './api/problem';
import { CLOCK, CONFIG, SERVICE_NAME, type PasswordServiceConfig } from './config';
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
        { provide: CLOCK, useValue: () => new Date() },
        { provide: TOKEN_VERIFIER, useValue: tokenVerifier(config, logger) },
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

/**
 * The bearer token verifier; without configured keys one that refuses every token (fail closed),
 * with a warning at boot. Likewise a warning when no NT4 connector is configured.
 */
function tokenVerifier(config: PasswordServiceConfig, logger: Logger): Pick<TokenVerifier, 'verify' | 'verifyAuthorization'> {
  if (config.connectors.length === 0) logger.warn('no NT4 connector configured (MW_PASSWORD_CONNECTORS): every password request will be refused');
  if (config.auth.publicKeysPem.length > 0) return new TokenVerifier(config.auth);
  logger.warn('no token signing key configured (MW_AUTH_PUBLIC_KEYS): every API call will be refused with 401');
  const refuse = async (): Promise<never> => {
    throw new TokenRejected('this service has no token signing key configured (MW_AUTH_PUBLIC_KEYS), so it accepts no token');
  };
  return { verify: refuse, verifyAuthorization: refuse };
}

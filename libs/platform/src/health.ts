import { Controller, Get, HttpException, HttpStatus, Injectable, Module, type DynamicModule } from '@nestjs/common';

export type ReadinessCheck = () => boolean | Promise<boolean>;

/** Components register what "ready" means for them (consumer running, database reachable...). */
@Injectable()
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async evaluate(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const checks: Record<string, boolean> = {};
    for (const [name, check] of this.checks) {
      try {
        checks[name] = await check();
      } catch {
        checks[name] = false;
      }
    }
    return { ready: Object.values(checks).every(Boolean), checks };
  }
}

@Controller('health')
export class HealthController {
  constructor(private readonly readiness: Readiness) {}

  /** Liveness: the process answers. */
  @Get('live')
  live() {
    return { status: 'live', pid: process.pid };
  }

  /** Readiness: every registered check passes; 503 names the ones that do not. */
  @Get('ready')
  async ready() {
    const result = await this.readiness.evaluate();
    if (!result.ready) throw new HttpException({ status: 'not-ready', checks: result.checks }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ready', pid: process.pid, checks: result.checks };
  }
}

@Module({})
export class HealthModule {
  static forRoot(): DynamicModule {
    return { module: HealthModule, global: true, controllers: [HealthController], providers: [Readiness], exports: [Readiness] };
  }
}

import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { BearerAuthGuard } from '@metaweave/auth';

/**
 * Bearer auth on every API call; only the health probes (`/health/*`, used by the orchestrator)
 * and the OpenAPI document (@Public) go without a token.
 */
@Injectable()
export class ApiAuthGuard implements CanActivate {
  constructor(private readonly bearer: BearerAuthGuard) {}

  canActivate(context: ExecutionContext): Promise<boolean> | boolean {
    const url = context.switchToHttp().getRequest<{ url?: string }>().url ?? '';
    if (url.startsWith('/health/')) return true;
    return this.bearer.canActivate(context);
  }
}

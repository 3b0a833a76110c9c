import {
  ForbiddenException,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { hasRole, type Principal, type Role } from './roles';
import { TokenRejected, TokenVerifier } from './tokens';

export const ROLES_KEY = 'metaweave:roles';
export const PUBLIC_KEY = 'metaweave:public';
export const TOKEN_VERIFIER = Symbol('TOKEN_VERIFIER');

/** The roles that may call a handler (or every handler of a controller). Admins always may. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
/** A handler anyone may call (health, the OpenAPI document). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
}

/**
 * Global guard: every handler needs a valid bearer token and one of the roles named by @Roles
 * (a handler without @Roles needs `admins`, so forgetting the decorator fails closed).
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const required = this.reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets) ?? ['admins'];
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers['authorization'];
    let principal: Principal;
    try {
      principal = await this.verifier.verifyAuthorization(Array.isArray(header) ? header[0] : header);
    } catch (error) {
      if (error instanceof TokenRejected) throw new UnauthorizedException({ title: 'Unauthorized', detail: error.message });
      throw error;
    }
    if (!hasRole(principal, required)) {
      throw new ForbiddenException({
        title: 'Forbidden',
        detail: `this call needs the role ${required.join(' or ')}; '${principal.subject}' has ${principal.roles.join(', ') || 'no role'}`,
      });
    }
    request.principal = principal;
    return true;
  }
}

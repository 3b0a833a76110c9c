/**
 * MIIS's security groups as roles (MIISAdmins, MIISOperators, MIISJoiners, MIISBrowse,
 * MIISPasswordSet). `admins` may do everything; the others grant exactly what they name.
 */
export const ROLES = ['admins', 'operators', 'joiners', 'browse', 'password-set'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** Token subject: who is calling (audit). */
  readonly subject: string;
  readonly roles: readonly Role[];
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True if the principal holds one of `required` (admins hold every role). */
export function hasRole(principal: Principal, required: readonly Role[]): boolean {
  if (principal.roles.includes('admins')) return true;
  return required.some((r) => principal.roles.includes(r));
}

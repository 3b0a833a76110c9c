import { SamrError } from './errors';

/** NT 4.0 SAM account names: at most 20 characters (the bridge enforces the same rule). */
export const MAX_ACCOUNT_NAME_LENGTH = 20;
/** NT 4.0 global group names (GNLEN). */
export const MAX_GROUP_NAME_LENGTH = 256;
const ILLEGAL = /["/\\[\]:;|=,+*?<>\u0000-\u001f]/;

function check(name: string, limit: number, what: string): void {
  if (typeof name !== 'string' || name === '') throw new SamrError('INVALID_PARAMETER', `${what} must be a non-empty string`);
  // NT counts UTF-16 code units, as JavaScript's length does
  if (name.length > limit) {
    throw new SamrError('NAME_TOO_LONG', `${what} ${JSON.stringify(name)} has ${name.length} characters; NT 4.0 allows at most ${limit}`);
  }
  if (ILLEGAL.test(name) || name.replace(/[ .]/g, '') === '') {
    throw new SamrError('INVALID_PARAMETER', `${what} ${JSON.stringify(name)} contains characters NT 4.0 does not allow`);
  }
}

/** Throws SamrError NAME_TOO_LONG / INVALID_PARAMETER before anything is sent to a server. */
export function validateAccountName(name: string): void {
  check(name, MAX_ACCOUNT_NAME_LENGTH, 'account name');
}

export function validateGroupName(name: string): void {
  check(name, MAX_GROUP_NAME_LENGTH, 'group name');
}

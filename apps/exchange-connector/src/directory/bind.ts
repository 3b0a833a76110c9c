/**
 * The bind DN of an NT account on an Exchange 5.5 server, as MIIS asked for it (server, account,
 * password, logon domain; domain.md §2.6): `dc=<DOMAIN>,cn=<account>`, with `,cn=admin` appended for
 * the administrator bind — the only one that sees tombstones (`Is-Deleted`), which the `usn` delta
 * strategy needs. Values are escaped as RFC 4514 requires.
 */
export function exchangeBindDn(account: string, logonDomain: string, admin: boolean): string {
  if (!account.trim()) throw new Error('the account name is empty');
  if (!logonDomain.trim()) throw new Error('the logon domain is empty');
  return `dc=${escapeDnValue(logonDomain.trim())},cn=${escapeDnValue(account.trim())}${admin ? ',cn=admin' : ''}`;
}

/** RFC 4514 escaping of one attribute value in a DN. */
export function escapeDnValue(v: string): string {
  return v
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
}

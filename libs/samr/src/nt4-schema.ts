/**
 * The NT4 connector's fixed schema (domain.md §3.2): SAMR users and global groups as
 * connector-space images, and CS attributes back to writable SAMR fields for export. Pure.
 *
 * - anchor: the object's SID in string form (`S-1-5-21-…-RID`); `objectSid` holds the binary SID
 *   as `{ b64 }` (byte-equal to Exchange 5.5 `Assoc-NT-Account`).
 * - dn: `DOMAIN\accountName` (a rename changes the DN, never the anchor); partition: the domain.
 * - references (`groups`, `member`) are `{ ref: <anchor of the other object> }`.
 * - Empty strings and "never" times are absent attributes, not empty values.
 * - Per-DC, per-logon counters (lastLogon, logonCount, badPasswordCount) are not staged: they
 *   change without anyone changing the account and would make every import a change.
 */
import { binaryValue } from '@metaweave/contracts';
import type { AttributeValue, Attributes } from '@metaweave/contracts';
import type { CsImage } from '@metaweave/connector-sdk';
import { acbToUf, ufToAcb } from './account-control';
import { SamrError } from './errors';
import { isoToNtTime, ntTimeToIso, NT_TIME_NEVER } from './nt-time';
import type { SamrGroup, SamrUser, SamrUserFields } from './protocol';
import { accountSid, sidFromString } from './sid';

export const NT4_USER = 'user';
export const NT4_GROUP = 'group';

/**
 * Samba's passdb keeps "never" as Unix time 2085923199 and reports it as this NT time
 * (2036-02-06T15:06:39Z) for AccountExpires / LastLogoff of accounts that never expire.
 */
export const SAMBA_NEVER_NT_TIME = 137303967990000000n;

export interface Nt4Context {
  /** NetBIOS domain name: the partition and the DN prefix. */
  readonly domain: string;
  readonly domainSid: string;
}

export type Nt4AttributeType = 'sid' | 'integer' | 'string' | 'time' | 'reference';

export interface Nt4AttributeSpec {
  readonly name: string;
  readonly type: Nt4AttributeType;
  readonly writable: boolean;
  /** The SamrUserFields key this attribute is exported through. */
  readonly field?: keyof SamrUserFields;
}

export const NT4_USER_SCHEMA: readonly Nt4AttributeSpec[] = [
  { name: 'objectSid', type: 'sid', writable: false },
  { name: 'rid', type: 'integer', writable: false },
  { name: 'accountName', type: 'string', writable: true, field: 'accountName' },
  { name: 'fullName', type: 'string', writable: true, field: 'fullName' },
  { name: 'description', type: 'string', writable: true, field: 'description' },
  { name: 'comment', type: 'string', writable: true, field: 'comment' },
  { name: 'homeDirectory', type: 'string', writable: true, field: 'homeDirectory' },
  { name: 'homeDrive', type: 'string', writable: true, field: 'homeDrive' },
  { name: 'scriptPath', type: 'string', writable: true, field: 'scriptPath' },
  { name: 'profilePath', type: 'string', writable: true, field: 'profilePath' },
  { name: 'workstations', type: 'string', writable: true, field: 'workstations' },
  { name: 'accountExpires', type: 'time', writable: true, field: 'accountExpires' },
  { name: 'userAccountControl', type: 'integer', writable: true, field: 'acb' },
  { name: 'passwordLastSet', type: 'time', writable: false },
  { name: 'primaryGroupId', type: 'integer', writable: true, field: 'primaryGroupId' },
  { name: 'groups', type: 'reference', writable: false },
];

export const NT4_GROUP_SCHEMA: readonly Nt4AttributeSpec[] = [
  { name: 'objectSid', type: 'sid', writable: false },
  { name: 'rid', type: 'integer', writable: false },
  { name: 'name', type: 'string', writable: true },
  { name: 'description', type: 'string', writable: true },
  { name: 'member', type: 'reference', writable: true },
];

const isNever = (t: bigint): boolean => t === 0n || t === NT_TIME_NEVER || t === SAMBA_NEVER_NT_TIME;

function put(attrs: Record<string, AttributeValue[]>, name: string, value: AttributeValue | null | undefined): void {
  if (value === null || value === undefined || value === '') return;
  attrs[name] = [value];
}

export const nt4Dn = (domain: string, accountName: string): string => `${domain}\\${accountName}`;

export function userToCsImage(user: SamrUser, ctx: Nt4Context): CsImage {
  const sid = accountSid(ctx.domainSid, user.rid);
  const a: Record<string, AttributeValue[]> = {};
  a['objectSid'] = [binaryValue(sidFromString(sid))];
  a['rid'] = [user.rid];
  put(a, 'accountName', user.accountName);
  put(a, 'fullName', user.fullName);
  put(a, 'description', user.description);
  put(a, 'comment', user.comment);
  put(a, 'homeDirectory', user.homeDirectory);
  put(a, 'homeDrive', user.homeDrive);
  put(a, 'scriptPath', user.scriptPath);
  put(a, 'profilePath', user.profilePath);
  put(a, 'workstations', user.workstations);
  put(a, 'accountExpires', isNever(user.accountExpires) ? null : ntTimeToIso(user.accountExpires));
  a['userAccountControl'] = [acbToUf(user.acb)];
  put(a, 'passwordLastSet', user.passwordLastSet === 0n ? null : ntTimeToIso(user.passwordLastSet));
  a['primaryGroupId'] = [user.primaryGroupId];
  const groups = [...new Set(user.groups.map((g) => g.rid))].sort((x, y) => x - y);
  if (groups.length > 0) a['groups'] = groups.map((rid) => ({ ref: accountSid(ctx.domainSid, rid) }));
  return { anchor: sid, partition: ctx.domain, dn: nt4Dn(ctx.domain, user.accountName), objectType: NT4_USER, attributes: a as Attributes };
}

export function groupToCsImage(group: SamrGroup, ctx: Nt4Context): CsImage {
  const sid = accountSid(ctx.domainSid, group.rid);
  const a: Record<string, AttributeValue[]> = {};
  a['objectSid'] = [binaryValue(sidFromString(sid))];
  a['rid'] = [group.rid];
  put(a, 'name', group.name);
  put(a, 'description', group.description);
  const members = [...new Set(group.members.map((m) => m.rid))].sort((x, y) => x - y);
  if (members.length > 0) a['member'] = members.map((rid) => ({ ref: accountSid(ctx.domainSid, rid) }));
  return { anchor: sid, partition: ctx.domain, dn: nt4Dn(ctx.domain, group.name), objectType: NT4_GROUP, attributes: a as Attributes };
}

function single(name: string, values: readonly AttributeValue[]): AttributeValue | undefined {
  if (values.length > 1) throw new SamrError('INVALID_PARAMETER', `${name} is single-valued; got ${values.length} values`);
  return values[0];
}

function asString(name: string, v: AttributeValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v !== 'string') throw new SamrError('INVALID_PARAMETER', `${name} must be a string`);
  return v;
}

function asInteger(name: string, v: AttributeValue | undefined, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new SamrError('INVALID_PARAMETER', `${name} must be an integer in 0..${max}`);
  }
  return v;
}

/**
 * CS attributes -> the SAMR fields to write. Only attributes present in `attrs` are written; an
 * attribute present with no values clears it (strings to "", accountExpires to never = 0).
 * Read-only attributes (objectSid, rid, passwordLastSet, groups) are returned in `ignored`:
 * membership is exported through the group's `member`.
 */
export function userFieldsFromAttributes(attrs: Attributes): { fields: SamrUserFields; ignored: string[] } {
  const fields: Record<string, unknown> = {};
  const ignored: string[] = [];
  const specs = new Map(NT4_USER_SCHEMA.map((s) => [s.name.toLowerCase(), s]));
  for (const [name, values] of Object.entries(attrs)) {
    const spec = specs.get(name.toLowerCase());
    if (!spec) throw new SamrError('INVALID_PARAMETER', `${name} is not an attribute of the NT4 user schema`);
    if (!spec.writable || !spec.field) {
      ignored.push(spec.name);
      continue;
    }
    const v = single(spec.name, values);
    switch (spec.type) {
      case 'string':
        fields[spec.field] = asString(spec.name, v);
        break;
      case 'time':
        fields[spec.field] = v === undefined ? 0n : isoToNtTime(asString(spec.name, v));
        break;
      case 'integer':
        if (v === undefined) throw new SamrError('INVALID_PARAMETER', `${spec.name} cannot be cleared`);
        fields[spec.field] = spec.name === 'userAccountControl' ? ufToAcb(asInteger(spec.name, v, 0xffffffff)) : asInteger(spec.name, v, 0xffffffff);
        break;
      default:
        ignored.push(spec.name);
    }
  }
  return { fields: fields as SamrUserFields, ignored };
}

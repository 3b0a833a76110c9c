/**
 * The bridge protocol, version 1: newline-framed JSON on the bridge's stdin/stdout. Wire shapes
 * (`Wire*`) carry NT times as decimal strings (they exceed 2^53) and bytes as base64; the public
 * shapes (`Samr*`) carry bigint and Buffer. Pure: no process, no I/O.
 */
import { SamrError } from './errors';
import type { WireError } from './errors';

export const SAMR_BRIDGE_PROTOCOL = 1;

export interface Hello {
  readonly protocol: number;
  readonly samba: string | null;
  readonly pid: number;
  readonly python?: string;
  readonly error?: string;
}

export type Response =
  | { readonly id: number | null; readonly ok: true; readonly result: unknown }
  | { readonly id: number | null; readonly ok: false; readonly error: WireError };

/** One line from the bridge: the hello or a response. Anything else is a protocol error. */
export function parseBridgeLine(line: string): { hello: Hello } | Response {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    throw new SamrError('PROTOCOL_ERROR', `the bridge wrote a line that is not JSON (${line.length} bytes)`);
  }
  if (typeof msg === 'object' && msg !== null) {
    const m = msg as Record<string, unknown>;
    if (typeof m['hello'] === 'object' && m['hello'] !== null) return { hello: m['hello'] as Hello };
    if ((typeof m['id'] === 'number' || m['id'] === null) && typeof m['ok'] === 'boolean') {
      if (m['ok'] === true && 'result' in m) return m as unknown as Response;
      if (m['ok'] === false && typeof m['error'] === 'object' && m['error'] !== null) return m as unknown as Response;
    }
  }
  throw new SamrError('PROTOCOL_ERROR', 'the bridge wrote a line that is neither a hello nor a response');
}

// --- connection ---------------------------------------------------------------------------------

export interface SamrConnectOptions {
  readonly host: string;
  /** SMB port; default 445. */
  readonly port?: number;
  /** NetBIOS domain name, e.g. CONTOSO. */
  readonly domain: string;
  readonly username: string;
  /** Never logged, never echoed. A blank password is refused. */
  readonly password: string;
  /** A client smb.conf (lock/state/cache dirs of its own). Omitted: the bridge writes a private one. */
  readonly clientConf?: string;
  /** Force SMB1 (NT LM 0.12), as a real Windows NT 4.0 requires. */
  readonly smb1?: boolean;
  /** Set false for NT 4.0 before SP4 (no NTLMv2). Default true. */
  readonly ntlmv2?: boolean;
  /** DCE/RPC binding options, e.g. ['sign'] or ['seal']. */
  readonly bindingOptions?: readonly string[];
  readonly connectTimeoutSeconds?: number;
  readonly rpcTimeoutSeconds?: number;
  /** Samba client debug level on the bridge's stderr, 0-2 (capped: higher levels dump NTLM exchanges). */
  readonly debugLevel?: 0 | 1 | 2;
}

export interface SamrDomainDescription {
  readonly domain: string;
  readonly domainSid: string;
  readonly serverRole: string;
  readonly oemInformation: string;
  readonly server: string;
}

export interface SamrDomainInfo {
  readonly domain: string;
  readonly domainSid: string;
  readonly numUsers: number;
  readonly numGroups: number;
  readonly numAliases: number;
  /** QueryDomainInfo level 8 "modified count". On NT 4.0 it counts changes; Samba answers the clock. */
  readonly sequenceNumber: bigint;
  readonly domainCreateTime: bigint;
  readonly serverRole: string;
  readonly oemInformation: string;
  /** true when sequenceNumber is within 10 minutes of the Unix time: a clock, useless as a change probe. */
  readonly sequenceLooksLikeClock: boolean;
  readonly modifiedCountAtLastPromotion?: bigint;
}

export interface SamrPasswordPolicy {
  readonly minPasswordLength: number;
  readonly passwordHistoryLength: number;
  readonly passwordProperties: number;
  readonly maxPasswordAge: bigint;
  readonly minPasswordAge: bigint;
}

// --- users --------------------------------------------------------------------------------------

export interface SamrLogonHours {
  readonly unitsPerWeek: number;
  readonly bits: Buffer;
}

export interface SamrGroupMembership {
  readonly rid: number;
  readonly attributes: number;
}

/** QueryUserInfo level 21 (SAMPR_USER_ALL_INFORMATION) + GetGroupsForUser. */
export interface SamrUser {
  readonly rid: number;
  readonly accountName: string;
  readonly fullName: string;
  readonly description: string;
  readonly comment: string;
  readonly homeDirectory: string;
  readonly homeDrive: string;
  readonly scriptPath: string;
  readonly profilePath: string;
  readonly workstations: string;
  readonly acb: number;
  readonly primaryGroupId: number;
  readonly accountExpires: bigint;
  readonly passwordLastSet: bigint;
  readonly passwordCanChange: bigint;
  readonly passwordMustChange: bigint;
  readonly lastLogon: bigint;
  readonly lastLogoff: bigint;
  readonly badPasswordCount: number;
  readonly logonCount: number;
  readonly countryCode: number;
  readonly codePage: number;
  readonly passwordExpired: boolean;
  readonly logonHours: SamrLogonHours;
  readonly parameters: Buffer;
  readonly groups: readonly SamrGroupMembership[];
}

/** The writable level-21 fields. `accountName` renames; `acb` replaces the whole flag word. */
export interface SamrUserFields {
  readonly accountName?: string;
  readonly fullName?: string;
  readonly description?: string;
  readonly comment?: string;
  readonly homeDirectory?: string;
  readonly homeDrive?: string;
  readonly scriptPath?: string;
  readonly profilePath?: string;
  readonly workstations?: string;
  /** NT time; 0n means never (Samba garbles 0x7FFFFFFFFFFFFFFF: write 0n). */
  readonly accountExpires?: bigint;
  readonly primaryGroupId?: number;
  readonly countryCode?: number;
  readonly codePage?: number;
  readonly logonHours?: { readonly unitsPerWeek: number; readonly bits: Uint8Array };
  readonly parameters?: Uint8Array;
  /** "User must change password at next logon". */
  readonly passwordExpired?: boolean;
  readonly acb?: number;
}

export interface SamrDisplayUser {
  readonly index: number;
  readonly rid: number;
  readonly accountName: string;
  readonly fullName: string;
  readonly description: string;
  readonly acb: number;
}

export interface WireUser {
  readonly rid: number;
  readonly accountName: string;
  readonly fullName: string;
  readonly description: string;
  readonly comment: string;
  readonly homeDirectory: string;
  readonly homeDrive: string;
  readonly scriptPath: string;
  readonly profilePath: string;
  readonly workstations: string;
  readonly acb: number;
  readonly primaryGroupId: number;
  readonly accountExpires: string;
  readonly passwordLastSet: string;
  readonly passwordCanChange: string;
  readonly passwordMustChange: string;
  readonly lastLogon: string;
  readonly lastLogoff: string;
  readonly badPasswordCount: number;
  readonly logonCount: number;
  readonly countryCode: number;
  readonly codePage: number;
  readonly passwordExpired: boolean;
  readonly logonHours: { readonly unitsPerWeek: number; readonly bits: string };
  readonly parameters: string;
  readonly groups: readonly SamrGroupMembership[];
}

export function userFromWire(w: WireUser): SamrUser {
  return {
    rid: w.rid,
    accountName: w.accountName,
    fullName: w.fullName,
    description: w.description,
    comment: w.comment,
    homeDirectory: w.homeDirectory,
    homeDrive: w.homeDrive,
    scriptPath: w.scriptPath,
    profilePath: w.profilePath,
    workstations: w.workstations,
    acb: w.acb,
    primaryGroupId: w.primaryGroupId,
    accountExpires: BigInt(w.accountExpires),
    passwordLastSet: BigInt(w.passwordLastSet),
    passwordCanChange: BigInt(w.passwordCanChange),
    passwordMustChange: BigInt(w.passwordMustChange),
    lastLogon: BigInt(w.lastLogon),
    lastLogoff: BigInt(w.lastLogoff),
    badPasswordCount: w.badPasswordCount,
    logonCount: w.logonCount,
    countryCode: w.countryCode,
    codePage: w.codePage,
    passwordExpired: w.passwordExpired,
    logonHours: { unitsPerWeek: w.logonHours.unitsPerWeek, bits: Buffer.from(w.logonHours.bits, 'base64') },
    parameters: Buffer.from(w.parameters, 'base64'),
    groups: w.groups.map((g) => ({ rid: g.rid, attributes: g.attributes })),
  };
}

/** Public fields -> the bridge's `fields` object (bigint as decimal string, bytes as base64). */
export function userFieldsToWire(f: SamrUserFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(f) as [keyof SamrUserFields, unknown][]) {
    if (value === undefined) continue;
    if (key === 'accountExpires') out[key] = (value as bigint).toString();
    else if (key === 'parameters') out[key] = Buffer.from(value as Uint8Array).toString('base64');
    else if (key === 'logonHours') {
      const h = value as { unitsPerWeek: number; bits: Uint8Array };
      out[key] = { unitsPerWeek: h.unitsPerWeek, bits: Buffer.from(h.bits).toString('base64') };
    } else out[key] = value;
  }
  return out;
}

// --- groups -------------------------------------------------------------------------------------

export interface SamrGroup {
  readonly rid: number;
  readonly name: string;
  readonly description: string;
  readonly attributes: number;
  readonly memberCount: number;
  readonly members: readonly SamrGroupMembership[];
}

export interface SamrDisplayGroup {
  readonly index: number;
  readonly rid: number;
  readonly name: string;
  readonly description: string;
  readonly attributes: number;
}

// --- batches ------------------------------------------------------------------------------------

export type WireBatchItem<T> =
  | { readonly rid: number; readonly ok: true; readonly result: T }
  | { readonly rid: number; readonly ok: false; readonly error: WireError };

/** One object of a batch read: its value, or the error that object alone ran into. */
export type BatchItem<T> = { readonly rid: number; readonly ok: true; readonly value: T } | { readonly rid: number; readonly ok: false; readonly error: SamrError };

export function batchFromWire<W, T>(items: readonly WireBatchItem<W>[], convert: (w: W) => T, op: string): BatchItem<T>[] {
  return items.map((i) => (i.ok ? { rid: i.rid, ok: true, value: convert(i.result) } : { rid: i.rid, ok: false, error: SamrError.fromWire(i.error, op) }));
}

// --- passwords and logons -----------------------------------------------------------------------

export interface SetPasswordOptions {
  /** Sets PasswordExpired: the user must change the password at next logon. */
  readonly forceChangeAtNextLogon?: boolean;
  /** Clears ACB_AUTOLOCK (and with it the bad password count). */
  readonly unlock?: boolean;
  /** SetUserInfo2 level to start with: 26 (default), 24 or 23; a server lacking it gets the next lower one. */
  readonly level?: 23 | 24 | 26;
}

export interface SetPasswordResult {
  readonly rid: number;
  readonly passwordLastSet: bigint;
  readonly passwordExpired: boolean;
  readonly acb: number;
  readonly unlocked: boolean;
  /** The SetUserInfo2 level the server accepted. */
  readonly level: number;
}

/** Whether a password works. Authentication outcomes are values; infrastructure failures throw. */
export type LogonResult =
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly status: 'LOGON_FAILURE' | 'ACCOUNT_DISABLED' | 'ACCOUNT_LOCKED_OUT' | 'ACCOUNT_RESTRICTION'; readonly ntStatus: string };

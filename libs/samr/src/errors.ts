/**
 * Typed SAMR errors: one class, a `status` discriminant, a `retriable` bit. The bridge reports
 * NT_STATUS names and codes; `statusFromNt` maps them onto the small set the connector acts on.
 * No message ever carries a password: the bridge scrubs its messages and `SamrError.fromWire`
 * scrubs again against the secrets of the request.
 */

export type SamrStatus =
  | 'NO_SUCH_USER'
  | 'USER_EXISTS'
  | 'NO_SUCH_GROUP'
  | 'GROUP_EXISTS'
  | 'MEMBER_IN_GROUP'
  | 'MEMBER_NOT_IN_GROUP'
  | 'WRONG_PASSWORD'
  | 'PASSWORD_RESTRICTION'
  | 'ACCOUNT_LOCKED_OUT'
  | 'ACCOUNT_DISABLED'
  /** expired account or password, must change password, logon hours, workstation restriction */
  | 'ACCOUNT_RESTRICTION'
  | 'ACCESS_DENIED'
  | 'LOGON_FAILURE'
  | 'INVALID_PARAMETER'
  | 'NAME_TOO_LONG'
  | 'NO_SUCH_DOMAIN'
  /** could not connect (refused, unreachable, unknown host, no answer) */
  | 'UNREACHABLE'
  /** the connection or the bridge process went away while a request was in flight */
  | 'CONNECTION_BROKEN'
  | 'TIMEOUT'
  /** an operation on a domain the bridge has no connection for (a programming error) */
  | 'NOT_CONNECTED'
  | 'NOT_SUPPORTED'
  /** the bridge spoke something other than protocol 1, or could not start */
  | 'PROTOCOL_ERROR'
  | 'INTERNAL'
  | 'UNKNOWN';

/** The identity-error families of style.md §7, for code that does not care about SAMR detail. */
export type SamrErrorCategory =
  | 'UnknownObject'
  | 'AlreadyExists'
  | 'Conflict'
  | 'InvalidCredentials'
  | 'PasswordPolicyViolation'
  | 'AccountRestricted'
  | 'AccessDenied'
  | 'InvalidInput'
  | 'ConnectionBroken'
  | 'Unexpected';

const BY_NT_NAME: Readonly<Record<string, SamrStatus>> = {
  NT_STATUS_NO_SUCH_USER: 'NO_SUCH_USER',
  NT_STATUS_USER_EXISTS: 'USER_EXISTS',
  NT_STATUS_NO_SUCH_GROUP: 'NO_SUCH_GROUP',
  NT_STATUS_GROUP_EXISTS: 'GROUP_EXISTS',
  NT_STATUS_ALIAS_EXISTS: 'GROUP_EXISTS',
  NT_STATUS_MEMBER_IN_GROUP: 'MEMBER_IN_GROUP',
  NT_STATUS_MEMBER_NOT_IN_GROUP: 'MEMBER_NOT_IN_GROUP',
  NT_STATUS_MEMBERS_PRIMARY_GROUP: 'INVALID_PARAMETER',
  NT_STATUS_WRONG_PASSWORD: 'WRONG_PASSWORD',
  NT_STATUS_PASSWORD_RESTRICTION: 'PASSWORD_RESTRICTION',
  NT_STATUS_ILL_FORMED_PASSWORD: 'PASSWORD_RESTRICTION',
  NT_STATUS_ACCOUNT_LOCKED_OUT: 'ACCOUNT_LOCKED_OUT',
  NT_STATUS_ACCOUNT_DISABLED: 'ACCOUNT_DISABLED',
  NT_STATUS_ACCOUNT_EXPIRED: 'ACCOUNT_RESTRICTION',
  NT_STATUS_ACCOUNT_RESTRICTION: 'ACCOUNT_RESTRICTION',
  NT_STATUS_PASSWORD_EXPIRED: 'ACCOUNT_RESTRICTION',
  NT_STATUS_PASSWORD_MUST_CHANGE: 'ACCOUNT_RESTRICTION',
  NT_STATUS_INVALID_LOGON_HOURS: 'ACCOUNT_RESTRICTION',
  NT_STATUS_INVALID_WORKSTATION: 'ACCOUNT_RESTRICTION',
  NT_STATUS_ACCESS_DENIED: 'ACCESS_DENIED',
  NT_STATUS_SPECIAL_ACCOUNT: 'ACCESS_DENIED',
  NT_STATUS_NETWORK_ACCESS_DENIED: 'ACCESS_DENIED',
  NT_STATUS_LOGON_FAILURE: 'LOGON_FAILURE',
  NT_STATUS_INVALID_PARAMETER: 'INVALID_PARAMETER',
  NT_STATUS_INVALID_PARAMETER_MIX: 'INVALID_PARAMETER',
  NT_STATUS_INVALID_INFO_CLASS: 'INVALID_PARAMETER',
  NT_STATUS_INVALID_ACCOUNT_NAME: 'INVALID_PARAMETER',
  NT_STATUS_NAME_TOO_LONG: 'NAME_TOO_LONG',
  NT_STATUS_NO_SUCH_DOMAIN: 'NO_SUCH_DOMAIN',
  NT_STATUS_CONNECTION_REFUSED: 'UNREACHABLE',
  NT_STATUS_HOST_UNREACHABLE: 'UNREACHABLE',
  NT_STATUS_NETWORK_UNREACHABLE: 'UNREACHABLE',
  NT_STATUS_PORT_UNREACHABLE: 'UNREACHABLE',
  NT_STATUS_BAD_NETWORK_NAME: 'UNREACHABLE',
  NT_STATUS_NO_LOGON_SERVERS: 'UNREACHABLE',
  NT_STATUS_ADDRESS_NOT_ASSOCIATED: 'UNREACHABLE',
  NT_STATUS_IO_TIMEOUT: 'TIMEOUT',
  NT_STATUS_CONNECTION_DISCONNECTED: 'CONNECTION_BROKEN',
  NT_STATUS_CONNECTION_RESET: 'CONNECTION_BROKEN',
  NT_STATUS_CONNECTION_ABORTED: 'CONNECTION_BROKEN',
  NT_STATUS_PIPE_DISCONNECTED: 'CONNECTION_BROKEN',
  NT_STATUS_PIPE_BROKEN: 'CONNECTION_BROKEN',
  NT_STATUS_PIPE_CLOSING: 'CONNECTION_BROKEN',
  NT_STATUS_INVALID_NETWORK_RESPONSE: 'CONNECTION_BROKEN',
  NT_STATUS_UNEXPECTED_NETWORK_ERROR: 'CONNECTION_BROKEN',
  NT_STATUS_NETWORK_NAME_DELETED: 'CONNECTION_BROKEN',
  NT_STATUS_END_OF_FILE: 'CONNECTION_BROKEN',
  NT_STATUS_LOCAL_DISCONNECT: 'CONNECTION_BROKEN',
  NT_STATUS_REMOTE_DISCONNECT: 'CONNECTION_BROKEN',
  NT_STATUS_RPC_PROTOCOL_ERROR: 'CONNECTION_BROKEN',
  NT_STATUS_RPC_CALL_FAILED: 'CONNECTION_BROKEN',
  NT_STATUS_CONNECTION_INVALID: 'NOT_CONNECTED',
  NT_STATUS_NOT_IMPLEMENTED: 'NOT_SUPPORTED',
  NT_STATUS_RPC_PROCNUM_OUT_OF_RANGE: 'NOT_SUPPORTED',
  NT_STATUS_INTERNAL_ERROR: 'INTERNAL',
};

/** The same table by code, for statuses that arrive without a name (`NT_STATUS_0x...`). */
const NT_CODES: Readonly<Record<string, number>> = {
  NT_STATUS_NO_SUCH_USER: 0xc0000064,
  NT_STATUS_USER_EXISTS: 0xc0000063,
  NT_STATUS_NO_SUCH_GROUP: 0xc0000066,
  NT_STATUS_GROUP_EXISTS: 0xc0000065,
  NT_STATUS_ALIAS_EXISTS: 0xc0000154,
  NT_STATUS_MEMBER_IN_GROUP: 0xc0000067,
  NT_STATUS_MEMBER_NOT_IN_GROUP: 0xc0000068,
  NT_STATUS_MEMBERS_PRIMARY_GROUP: 0xc0000127,
  NT_STATUS_WRONG_PASSWORD: 0xc000006a,
  NT_STATUS_PASSWORD_RESTRICTION: 0xc000006c,
  NT_STATUS_ILL_FORMED_PASSWORD: 0xc000006b,
  NT_STATUS_ACCOUNT_LOCKED_OUT: 0xc0000234,
  NT_STATUS_ACCOUNT_DISABLED: 0xc0000072,
  NT_STATUS_ACCOUNT_EXPIRED: 0xc0000193,
  NT_STATUS_ACCOUNT_RESTRICTION: 0xc000006e,
  NT_STATUS_PASSWORD_EXPIRED: 0xc0000071,
  NT_STATUS_PASSWORD_MUST_CHANGE: 0xc0000224,
  NT_STATUS_INVALID_LOGON_HOURS: 0xc000006f,
  NT_STATUS_INVALID_WORKSTATION: 0xc0000070,
  NT_STATUS_ACCESS_DENIED: 0xc0000022,
  NT_STATUS_SPECIAL_ACCOUNT: 0xc0000124,
  NT_STATUS_NETWORK_ACCESS_DENIED: 0xc00000ca,
  NT_STATUS_LOGON_FAILURE: 0xc000006d,
  NT_STATUS_INVALID_PARAMETER: 0xc000000d,
  NT_STATUS_INVALID_PARAMETER_MIX: 0xc0000030,
  NT_STATUS_INVALID_INFO_CLASS: 0xc0000003,
  NT_STATUS_INVALID_ACCOUNT_NAME: 0xc0000062,
  NT_STATUS_NAME_TOO_LONG: 0xc0000106,
  NT_STATUS_NO_SUCH_DOMAIN: 0xc00000df,
  NT_STATUS_CONNECTION_REFUSED: 0xc0000236,
  NT_STATUS_HOST_UNREACHABLE: 0xc000023d,
  NT_STATUS_NETWORK_UNREACHABLE: 0xc000023c,
  NT_STATUS_PORT_UNREACHABLE: 0xc000023f,
  NT_STATUS_BAD_NETWORK_NAME: 0xc00000cc,
  NT_STATUS_NO_LOGON_SERVERS: 0xc000005e,
  NT_STATUS_ADDRESS_NOT_ASSOCIATED: 0xc0000239,
  NT_STATUS_IO_TIMEOUT: 0xc00000b5,
  NT_STATUS_CONNECTION_DISCONNECTED: 0xc000020c,
  NT_STATUS_CONNECTION_RESET: 0xc000020d,
  NT_STATUS_CONNECTION_ABORTED: 0xc0000241,
  NT_STATUS_PIPE_DISCONNECTED: 0xc00000b0,
  NT_STATUS_PIPE_BROKEN: 0xc000014b,
  NT_STATUS_PIPE_CLOSING: 0xc00000b1,
  NT_STATUS_INVALID_NETWORK_RESPONSE: 0xc00000c3,
  NT_STATUS_UNEXPECTED_NETWORK_ERROR: 0xc00000c4,
  NT_STATUS_NETWORK_NAME_DELETED: 0xc00000c9,
  NT_STATUS_END_OF_FILE: 0xc0000011,
  NT_STATUS_LOCAL_DISCONNECT: 0xc000013b,
  NT_STATUS_REMOTE_DISCONNECT: 0xc000013c,
  NT_STATUS_RPC_PROTOCOL_ERROR: 0xc002001d,
  NT_STATUS_RPC_CALL_FAILED: 0xc002001b,
  NT_STATUS_CONNECTION_INVALID: 0xc000023a,
  NT_STATUS_NOT_IMPLEMENTED: 0xc0000002,
  NT_STATUS_RPC_PROCNUM_OUT_OF_RANGE: 0xc002002e,
  NT_STATUS_INTERNAL_ERROR: 0xc00000e5,
};
const BY_CODE = new Map<number, SamrStatus>(Object.entries(NT_CODES).map(([name, code]) => [code, BY_NT_NAME[name]!]));

const RETRIABLE = new Set<SamrStatus>(['UNREACHABLE', 'CONNECTION_BROKEN', 'TIMEOUT']);

/** NT_STATUS name (preferred) or code -> typed status. Unknown statuses are 'UNKNOWN', never guessed. */
export function statusFromNt(name: string | undefined, code?: number): SamrStatus {
  if (name && BY_NT_NAME[name]) return BY_NT_NAME[name];
  if (code !== undefined && BY_CODE.has(code >>> 0)) return BY_CODE.get(code >>> 0)!;
  return 'UNKNOWN';
}

export const isRetriableStatus = (status: SamrStatus): boolean => RETRIABLE.has(status);

export function categoryOf(status: SamrStatus): SamrErrorCategory {
  switch (status) {
    case 'NO_SUCH_USER':
    case 'NO_SUCH_GROUP':
    case 'NO_SUCH_DOMAIN':
      return 'UnknownObject';
    case 'USER_EXISTS':
    case 'GROUP_EXISTS':
      return 'AlreadyExists';
    case 'MEMBER_IN_GROUP':
    case 'MEMBER_NOT_IN_GROUP':
      return 'Conflict';
    case 'WRONG_PASSWORD':
    case 'LOGON_FAILURE':
      return 'InvalidCredentials';
    case 'PASSWORD_RESTRICTION':
      return 'PasswordPolicyViolation';
    case 'ACCOUNT_LOCKED_OUT':
    case 'ACCOUNT_DISABLED':
    case 'ACCOUNT_RESTRICTION':
      return 'AccountRestricted';
    case 'ACCESS_DENIED':
      return 'AccessDenied';
    case 'INVALID_PARAMETER':
    case 'NAME_TOO_LONG':
      return 'InvalidInput';
    case 'UNREACHABLE':
    case 'CONNECTION_BROKEN':
    case 'TIMEOUT':
      return 'ConnectionBroken';
    default:
      return 'Unexpected';
  }
}

/** An error as the bridge puts it on the wire. */
export interface WireError {
  readonly status: string;
  readonly code: number;
  readonly message: string;
  readonly retriable: boolean;
  readonly step?: string;
}

/** Replaces every occurrence of every secret (longest first) with `***`. */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of [...secrets].filter((x): x is string => !!x).sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out;
}

export class SamrError extends Error {
  readonly status: SamrStatus;
  readonly retriable: boolean;
  /** The NT_STATUS name the server (or the bridge) reported, when there was one. */
  readonly ntStatus: string | undefined;
  readonly code: number | undefined;
  /** The bridge operation that failed (`createUser`, `getUsers`, ...). */
  readonly op: string | undefined;
  /** For multi-step operations (createUser): the step that failed. */
  readonly step: string | undefined;

  constructor(
    status: SamrStatus,
    message: string,
    options: { retriable?: boolean; ntStatus?: string; code?: number; op?: string; step?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SamrError';
    this.status = status;
    this.retriable = options.retriable ?? isRetriableStatus(status);
    this.ntStatus = options.ntStatus;
    this.code = options.code;
    this.op = options.op;
    this.step = options.step;
  }

  get category(): SamrErrorCategory {
    return categoryOf(this.status);
  }

  static fromWire(wire: WireError, op: string | undefined, secrets: readonly (string | undefined)[] = []): SamrError {
    const status = statusFromNt(wire.status, wire.code);
    const text = scrubSecrets(String(wire.message ?? ''), secrets);
    return new SamrError(status, `${op ?? 'samr'}: ${text} (${wire.status})`, {
      retriable: wire.retriable === true || isRetriableStatus(status),
      ntStatus: wire.status,
      code: wire.code,
      op,
      step: wire.step,
    });
  }
}

export const isSamrError = (e: unknown, status?: SamrStatus): e is SamrError =>
  e instanceof SamrError && (status === undefined || e.status === status);

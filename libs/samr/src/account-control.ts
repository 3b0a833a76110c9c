/**
 * Account control flags. SAMR carries `USER_*` / Samba `ACB_*` bits; MIIS's `flags` and AD's
 * `userAccountControl` use the NetAPI `UF_*` bits. They are numerically different: translate with
 * the map Samba implements (libds/common/flag_mapping.c; domain.md §3.3).
 */

export const ACB = {
  DISABLED: 0x00000001,
  HOMDIRREQ: 0x00000002,
  PWNOTREQ: 0x00000004,
  TEMPDUP: 0x00000008,
  NORMAL: 0x00000010,
  MNS: 0x00000020,
  DOMTRUST: 0x00000040,
  WSTRUST: 0x00000080,
  SVRTRUST: 0x00000100,
  PWNOEXP: 0x00000200,
  AUTOLOCK: 0x00000400,
  ENC_TXT_PWD_ALLOWED: 0x00000800,
  SMARTCARD_REQUIRED: 0x00001000,
  TRUSTED_FOR_DELEGATION: 0x00002000,
  NOT_DELEGATED: 0x00004000,
  USE_DES_KEY_ONLY: 0x00008000,
  DONT_REQUIRE_PREAUTH: 0x00010000,
  PW_EXPIRED: 0x00020000,
  NO_AUTH_DATA_REQD: 0x00080000,
} as const;

export const UF = {
  SCRIPT: 0x0001,
  ACCOUNTDISABLE: 0x0002,
  HOMEDIR_REQUIRED: 0x0008,
  LOCKOUT: 0x0010,
  PASSWD_NOTREQD: 0x0020,
  PASSWD_CANT_CHANGE: 0x0040,
  ENCRYPTED_TEXT_PASSWORD_ALLOWED: 0x0080,
  TEMP_DUPLICATE_ACCOUNT: 0x0100,
  NORMAL_ACCOUNT: 0x0200,
  INTERDOMAIN_TRUST_ACCOUNT: 0x0800,
  WORKSTATION_TRUST_ACCOUNT: 0x1000,
  SERVER_TRUST_ACCOUNT: 0x2000,
  DONT_EXPIRE_PASSWD: 0x10000,
  MNS_LOGON_ACCOUNT: 0x20000,
  SMARTCARD_REQUIRED: 0x40000,
  TRUSTED_FOR_DELEGATION: 0x80000,
  NOT_DELEGATED: 0x100000,
  USE_DES_KEY_ONLY: 0x200000,
  DONT_REQUIRE_PREAUTH: 0x400000,
  PASSWORD_EXPIRED: 0x800000,
  NO_AUTH_DATA_REQUIRED: 0x2000000,
} as const;

/** [UF bit, ACB bit] pairs, exactly Samba's acct_flags_map. */
const MAP: ReadonlyArray<readonly [number, number]> = [
  [UF.ACCOUNTDISABLE, ACB.DISABLED],
  [UF.HOMEDIR_REQUIRED, ACB.HOMDIRREQ],
  [UF.PASSWD_NOTREQD, ACB.PWNOTREQ],
  [UF.TEMP_DUPLICATE_ACCOUNT, ACB.TEMPDUP],
  [UF.NORMAL_ACCOUNT, ACB.NORMAL],
  [UF.MNS_LOGON_ACCOUNT, ACB.MNS],
  [UF.INTERDOMAIN_TRUST_ACCOUNT, ACB.DOMTRUST],
  [UF.WORKSTATION_TRUST_ACCOUNT, ACB.WSTRUST],
  [UF.SERVER_TRUST_ACCOUNT, ACB.SVRTRUST],
  [UF.DONT_EXPIRE_PASSWD, ACB.PWNOEXP],
  [UF.LOCKOUT, ACB.AUTOLOCK],
  [UF.ENCRYPTED_TEXT_PASSWORD_ALLOWED, ACB.ENC_TXT_PWD_ALLOWED],
  [UF.SMARTCARD_REQUIRED, ACB.SMARTCARD_REQUIRED],
  [UF.TRUSTED_FOR_DELEGATION, ACB.TRUSTED_FOR_DELEGATION],
  [UF.NOT_DELEGATED, ACB.NOT_DELEGATED],
  [UF.USE_DES_KEY_ONLY, ACB.USE_DES_KEY_ONLY],
  [UF.DONT_REQUIRE_PREAUTH, ACB.DONT_REQUIRE_PREAUTH],
  [UF.PASSWORD_EXPIRED, ACB.PW_EXPIRED],
  [UF.NO_AUTH_DATA_REQUIRED, ACB.NO_AUTH_DATA_REQD],
];

/**
 * SAMR ACB bits -> NetAPI UF bits. Bits without a counterpart are dropped. UF_SCRIPT (which
 * NetAPI always sets and SAMR has no bit for) is added only when asked: MIIS's `flags` shows it
 * (0x201 = enabled normal account), AD's userAccountControl does not.
 */
export function acbToUf(acb: number, options: { script?: boolean } = {}): number {
  let uf = options.script ? UF.SCRIPT : 0;
  for (const [u, a] of MAP) if ((acb & a) !== 0) uf |= u;
  return uf >>> 0;
}

/** NetAPI UF bits -> SAMR ACB bits. UF_SCRIPT and UF_PASSWD_CANT_CHANGE have no ACB bit and are dropped. */
export function ufToAcb(uf: number): number {
  let acb = 0;
  for (const [u, a] of MAP) if ((uf & u) !== 0) acb |= a;
  return acb >>> 0;
}

/** The ACB bit names set in `acb` (for logs and error messages). */
export function acbNames(acb: number): string[] {
  return Object.entries(ACB)
    .filter(([, bit]) => (acb & bit) !== 0)
    .map(([name]) => name);
}

export const isDisabled = (acb: number): boolean => (acb & ACB.DISABLED) !== 0;
export const isLockedOut = (acb: number): boolean => (acb & ACB.AUTOLOCK) !== 0;

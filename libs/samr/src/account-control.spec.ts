import { ACB, UF, acbNames, acbToUf, isDisabled, isLockedOut, ufToAcb } from './account-control';

describe('ACB <-> UF flags (domain.md §3.3)', () => {
  it.each([
    [ACB.DISABLED, UF.ACCOUNTDISABLE, 0x0001, 0x0002],
    [ACB.HOMDIRREQ, UF.HOMEDIR_REQUIRED, 0x0002, 0x0008],
    [ACB.PWNOTREQ, UF.PASSWD_NOTREQD, 0x0004, 0x0020],
    [ACB.TEMPDUP, UF.TEMP_DUPLICATE_ACCOUNT, 0x0008, 0x0100],
    [ACB.NORMAL, UF.NORMAL_ACCOUNT, 0x0010, 0x0200],
    [ACB.MNS, UF.MNS_LOGON_ACCOUNT, 0x0020, 0x20000],
    [ACB.DOMTRUST, UF.INTERDOMAIN_TRUST_ACCOUNT, 0x0040, 0x0800],
    [ACB.WSTRUST, UF.WORKSTATION_TRUST_ACCOUNT, 0x0080, 0x1000],
    [ACB.SVRTRUST, UF.SERVER_TRUST_ACCOUNT, 0x0100, 0x2000],
    [ACB.PWNOEXP, UF.DONT_EXPIRE_PASSWD, 0x0200, 0x10000],
    [ACB.AUTOLOCK, UF.LOCKOUT, 0x0400, 0x0010],
    [ACB.ENC_TXT_PWD_ALLOWED, UF.ENCRYPTED_TEXT_PASSWORD_ALLOWED, 0x0800, 0x0080],
  ])('ACB %i <-> UF %i (the table values %i / %i)', (acb, uf, acbValue, ufValue) => {
    expect(acb).toBe(acbValue);
    expect(uf).toBe(ufValue);
    expect(acbToUf(acb)).toBe(uf);
    expect(ufToAcb(uf)).toBe(acb);
  });

  it("gives MIIS's flags for an enabled and a disabled normal account (0x201 / 0x203 with UF_SCRIPT)", () => {
    expect(acbToUf(0x0010, { script: true })).toBe(0x201);
    expect(acbToUf(0x0011, { script: true })).toBe(0x203);
    expect(acbToUf(0x0011)).toBe(0x202);
    expect(ufToAcb(0x201)).toBe(0x0010);
    expect(ufToAcb(0x203)).toBe(0x0011);
  });

  it('round-trips every combination of the mapped bits', () => {
    const all = Object.values(ACB).reduce((a, b) => a | b, 0);
    for (let i = 0; i < 2000; i++) {
      const acb = (Math.floor(Math.random() * 0xffffffff) & all) >>> 0;
      expect(ufToAcb(acbToUf(acb))).toBe(acb);
    }
  });

  it('drops bits that have no counterpart', () => {
    expect(ufToAcb(UF.SCRIPT | UF.PASSWD_CANT_CHANGE)).toBe(0);
    expect(acbToUf(0x00200000 /* ACB_USE_AES_KEYS: not in Samba's map */)).toBe(0);
  });

  it('names the bits and reads the two states the connector cares about', () => {
    expect(acbNames(0x0411)).toEqual(['DISABLED', 'NORMAL', 'AUTOLOCK']);
    expect(isDisabled(0x11)).toBe(true);
    expect(isDisabled(0x10)).toBe(false);
    expect(isLockedOut(0x410)).toBe(true);
  });
});

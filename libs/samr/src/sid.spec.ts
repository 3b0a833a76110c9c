import { InvalidSid, accountSid, sidFromString, sidToString, splitAccountSid } from './sid';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('SIDs (MS-DTYP 2.4.2)', () => {
  it('encodes and decodes the domain.md §3.4 test vector S-1-5-21-1-2-3-513', () => {
    const bytes = hex('01 05 00 00 00 00 00 05 15 00 00 00 01 00 00 00 02 00 00 00 03 00 00 00 01 02 00 00');
    expect(sidFromString('S-1-5-21-1-2-3-513')).toEqual(bytes);
    expect(sidToString(bytes)).toBe('S-1-5-21-1-2-3-513');
  });

  it('encodes account SIDs of the Samba stand-in domain as Assoc-NT-Account must hold them', () => {
    const sid = 'S-1-5-21-1144201745-2289526357-3433806489-1001';
    const bytes = Buffer.from('AQUAAAAAAAUVAAAAESIzRFVmd4iZuqvM6QMAAA==', 'base64');
    expect(sidFromString(sid).equals(bytes)).toBe(true);
    expect(sidToString(bytes)).toBe(sid);
    expect(accountSid('S-1-5-21-1144201745-2289526357-3433806489', 1001)).toBe(sid);
    expect(splitAccountSid(sid)).toEqual({ domainSid: 'S-1-5-21-1144201745-2289526357-3433806489', rid: 1001 });
  });

  it("decodes infra.md's Assoc-NT-Account sample to what its bytes say (…-3434850969-1001, not the stand-in domain)", () => {
    // 99 aa bb cc = 0xCCBBAA99 = 3434850969; the stand-in domain's third value is 3433806489 = 0xCCABBA99
    const sample = Buffer.from('AQUAAAAAAAUVAAAAESIzRFVmd4iZqrvM6QMAAA==', 'base64');
    expect(sidToString(sample)).toBe('S-1-5-21-1144201745-2289526357-3434850969-1001');
    expect(sidFromString('S-1-5-21-1144201745-2289526357-3434850969-1001').equals(sample)).toBe(true);
  });

  it('handles well-known SIDs without a domain part', () => {
    expect(sidToString(hex('01 01 00 00 00 00 00 01 00 00 00 00'))).toBe('S-1-1-0');
    expect(sidFromString('S-1-5-32-544')).toEqual(hex('01 02 00 00 00 00 00 05 20 00 00 00 20 02 00 00'));
    expect(sidToString(hex('01 00 00 00 00 00 00 05'))).toBe('S-1-5');
  });

  it('writes authorities of 2^32 and above in hex, and reads them back', () => {
    const bytes = hex('01 01 01 02 03 04 05 06 07 00 00 00');
    expect(sidToString(bytes)).toBe('S-1-0x010203040506-7');
    expect(sidFromString('S-1-0x010203040506-7')).toEqual(bytes);
  });

  it('takes the maximum sub-authority and 15 sub-authorities', () => {
    const sid = `S-1-5${'-4294967295'.repeat(15)}`;
    expect(sidToString(sidFromString(sid))).toBe(sid);
  });

  it.each([
    ['S-1-5-21-01', 'leading zero'],
    ['S-1-5-4294967296', 'sub-authority out of range'],
    [`S-1-5${'-1'.repeat(16)}`, '16 sub-authorities'],
    ['S-2-5-21', 'revision 2'],
    ['s-1-5-21', 'lower-case s'],
    ['S-1-0x00000000FFFF-1', 'small authority in hex'],
    ['', 'empty'],
  ])('rejects %j (%s)', (text) => {
    expect(() => sidFromString(text)).toThrow(InvalidSid);
  });

  it.each([
    [hex('02 01 00 00 00 00 00 05 15 00 00 00'), 'revision 2'],
    [hex('01 02 00 00 00 00 00 05 15 00 00 00'), 'count says 2, bytes hold 1'],
    [hex('01 10 00 00 00 00 00 05'), 'count 16'],
    [hex('01 00 00'), 'too short'],
  ])('rejects binary %s (%s)', (bytes) => {
    expect(() => sidToString(bytes)).toThrow(InvalidSid);
  });

  it('refuses RIDs outside uint32 and SIDs without a RID', () => {
    expect(() => accountSid('S-1-5-21-1-2-3', -1)).toThrow(InvalidSid);
    expect(() => accountSid('S-1-5-21-1-2-3', 2 ** 32)).toThrow(InvalidSid);
    expect(() => splitAccountSid('S-1-5')).toThrow(InvalidSid);
  });
});

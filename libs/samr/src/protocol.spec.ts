import { SamrError } from './errors';
import { batchFromWire, parseBridgeLine, userFieldsToWire, userFromWire } from './protocol';
import type { WireUser } from './protocol';

// A user exactly as bridge protocol 1 put it on the wire against the Samba stand-in.
const wire: WireUser = {
  rid: 1008,
  accountName: 'zqgenu00001',
  fullName: 'Generated User 1',
  description: 'metaweave generator zqgen',
  comment: '',
  homeDirectory: '\\\\fs1\\home\\zqgenu00001',
  homeDrive: 'H:',
  scriptPath: 'logon.bat',
  profilePath: '\\\\fs1\\profiles\\zqgenu00001',
  workstations: '',
  acb: 16,
  primaryGroupId: 513,
  accountExpires: '137303967990000000',
  passwordLastSet: '134399147880000000',
  passwordCanChange: '134399147880000000',
  passwordMustChange: '9223372036854775807',
  lastLogon: '0',
  lastLogoff: '137303967990000000',
  badPasswordCount: 0,
  logonCount: 0,
  countryCode: 0,
  codePage: 0,
  passwordExpired: false,
  logonHours: { unitsPerWeek: 168, bits: '////////////////////////////' },
  parameters: '',
  groups: [
    { rid: 513, attributes: 7 },
    { rid: 1057, attributes: 7 },
  ],
};

describe('bridge protocol 1 (pure parts)', () => {
  it('reads a hello and responses, and nothing else', () => {
    expect(parseBridgeLine('{"hello":{"protocol":1,"samba":"4.17.12-Debian","pid":1}}')).toEqual({ hello: { protocol: 1, samba: '4.17.12-Debian', pid: 1 } });
    expect(parseBridgeLine('{"id":3,"ok":true,"result":{"pong":true}}')).toEqual({ id: 3, ok: true, result: { pong: true } });
    expect(parseBridgeLine('{"id":null,"ok":false,"error":{"status":"NT_STATUS_INVALID_PARAMETER","code":3221225485,"message":"m","retriable":false}}')).toMatchObject({
      ok: false,
    });
    for (const bad of ['', 'hello', '{"id":1}', '{"id":"1","ok":true,"result":1}', '[1]', '{"id":1,"ok":false}']) {
      expect(() => parseBridgeLine(bad)).toThrow(SamrError);
    }
  });

  it('turns wire users into typed users (bigint times, bytes)', () => {
    const u = userFromWire(wire);
    expect(u.passwordMustChange).toBe(0x7fffffffffffffffn);
    expect(u.passwordLastSet).toBe(134399147880000000n);
    expect(u.logonHours.bits).toEqual(Buffer.alloc(21, 0xff));
    expect(u.parameters.length).toBe(0);
    expect(u.groups.map((g) => g.rid)).toEqual([513, 1057]);
  });

  it('writes fields the way the bridge reads them', () => {
    expect(
      userFieldsToWire({
        fullName: 'A',
        accountExpires: 0n,
        parameters: Buffer.from('hi'),
        logonHours: { unitsPerWeek: 168, bits: new Uint8Array(21) },
        passwordExpired: true,
        acb: 0x10,
        comment: undefined,
      }),
    ).toEqual({
      fullName: 'A',
      accountExpires: '0',
      parameters: 'aGk=',
      logonHours: { unitsPerWeek: 168, bits: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      passwordExpired: true,
      acb: 0x10,
    });
  });

  it('keeps per-object errors of a batch per object', () => {
    const items = batchFromWire(
      [
        { rid: 1008, ok: true, result: wire },
        { rid: 9, ok: false, error: { status: 'NT_STATUS_NO_SUCH_USER', code: 0xc0000064, message: 'gone', retriable: false } },
      ],
      userFromWire,
      'getUsers',
    );
    expect(items[0]).toMatchObject({ rid: 1008, ok: true });
    expect(items[1]).toMatchObject({ rid: 9, ok: false, error: { status: 'NO_SUCH_USER' } });
  });
});

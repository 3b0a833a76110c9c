import { diffObject } from '@metaweave/connector-sdk';
import { ACB, UF } from './account-control';
import { SAMBA_NEVER_NT_TIME, groupToCsImage, userFieldsFromAttributes, userToCsImage } from './nt4-schema';
import { NT_TIME_NEVER } from './nt-time';
import type { SamrGroup, SamrUser } from './protocol';

const ctx = { domain: 'CONTOSO', domainSid: 'S-1-5-21-1144201745-2289526357-3433806489' };

const user: SamrUser = {
  rid: 1001,
  accountName: 'jsmith',
  fullName: 'John Smith',
  description: 'Accounting',
  comment: 'desk 4',
  homeDirectory: '\\\\fs1\\home\\jsmith',
  homeDrive: 'H:',
  scriptPath: 'logon.bat',
  profilePath: '\\\\fs1\\profiles\\jsmith',
  workstations: 'WS1,WS2',
  acb: ACB.NORMAL | ACB.DISABLED,
  primaryGroupId: 513,
  accountExpires: 134399126400000000n,
  passwordLastSet: 134399126401234567n,
  passwordCanChange: 0n,
  passwordMustChange: NT_TIME_NEVER,
  lastLogon: 134399126400000000n,
  lastLogoff: 0n,
  badPasswordCount: 2,
  logonCount: 7,
  countryCode: 0,
  codePage: 0,
  passwordExpired: false,
  logonHours: { unitsPerWeek: 168, bits: Buffer.alloc(21, 0xff) },
  parameters: Buffer.alloc(0),
  groups: [
    { rid: 1057, attributes: 7 },
    { rid: 513, attributes: 7 },
  ],
};

describe('NT4 fixed schema: SAMR -> connector space', () => {
  it('maps a user with the SID as anchor, DOMAIN\\name as DN, UF flags and ISO times', () => {
    expect(userToCsImage(user, ctx)).toEqual({
      anchor: 'S-1-5-21-1144201745-2289526357-3433806489-1001',
      partition: 'CONTOSO',
      dn: 'CONTOSO\\jsmith',
      objectType: 'user',
      attributes: {
        objectSid: [{ b64: 'AQUAAAAAAAUVAAAAESIzRFVmd4iZuqvM6QMAAA==' }],
        rid: [1001],
        accountName: ['jsmith'],
        fullName: ['John Smith'],
        description: ['Accounting'],
        comment: ['desk 4'],
        homeDirectory: ['\\\\fs1\\home\\jsmith'],
        homeDrive: ['H:'],
        scriptPath: ['logon.bat'],
        profilePath: ['\\\\fs1\\profiles\\jsmith'],
        workstations: ['WS1,WS2'],
        accountExpires: ['2026-11-23T13:04:00.000Z'],
        userAccountControl: [UF.NORMAL_ACCOUNT | UF.ACCOUNTDISABLE],
        passwordLastSet: ['2026-11-23T13:04:00.1234567Z'],
        primaryGroupId: [513],
        groups: [{ ref: 'S-1-5-21-1144201745-2289526357-3433806489-513' }, { ref: 'S-1-5-21-1144201745-2289526357-3433806489-1057' }],
      },
    });
  });

  it('leaves out empty strings and never-times (0, 0x7FFF..., and Samba 2036-02-06)', () => {
    for (const never of [0n, NT_TIME_NEVER, SAMBA_NEVER_NT_TIME]) {
      const image = userToCsImage({ ...user, comment: '', workstations: '', accountExpires: never, passwordLastSet: 0n, groups: [] }, ctx);
      expect(image.attributes).not.toHaveProperty('comment');
      expect(image.attributes).not.toHaveProperty('workstations');
      expect(image.attributes).not.toHaveProperty('accountExpires');
      expect(image.attributes).not.toHaveProperty('passwordLastSet');
      expect(image.attributes).not.toHaveProperty('groups');
    }
  });

  it('does not stage logon counters: a logon changes nothing in the connector space', () => {
    const before = userToCsImage(user, ctx);
    const after = userToCsImage({ ...user, lastLogon: user.lastLogon + 10_000_000n, logonCount: 8, badPasswordCount: 0 }, ctx);
    expect(diffObject({ ...before, version: 1, deleted: false }, after)).toBeNull();
  });

  it('sees a rename as a rename (same anchor, new DN)', () => {
    const before = userToCsImage(user, ctx);
    const change = diffObject({ ...before, version: 3, deleted: false }, userToCsImage({ ...user, accountName: 'jsmith2' }, ctx));
    expect(change?.change).toBe('rename');
    expect(change?.previousDn).toBe('CONTOSO\\jsmith');
    expect(change?.image.anchor).toBe(before.anchor);
  });

  it('maps a global group with members as references to user anchors', () => {
    const group: SamrGroup = {
      rid: 1057,
      name: 'Helpdesk',
      description: '',
      attributes: 7,
      memberCount: 2,
      members: [
        { rid: 1002, attributes: 7 },
        { rid: 1001, attributes: 7 },
      ],
    };
    expect(groupToCsImage(group, ctx)).toEqual({
      anchor: 'S-1-5-21-1144201745-2289526357-3433806489-1057',
      partition: 'CONTOSO',
      dn: 'CONTOSO\\Helpdesk',
      objectType: 'group',
      attributes: {
        objectSid: [{ b64: 'AQUAAAAAAAUVAAAAESIzRFVmd4iZuqvMIQQAAA==' }],
        rid: [1057],
        name: ['Helpdesk'],
        member: [{ ref: 'S-1-5-21-1144201745-2289526357-3433806489-1001' }, { ref: 'S-1-5-21-1144201745-2289526357-3433806489-1002' }],
      },
    });
  });
});

describe('NT4 fixed schema: connector space -> SAMR fields (export)', () => {
  it('turns the image of a user back into exactly the fields it came from', () => {
    const { fields, ignored } = userFieldsFromAttributes(userToCsImage(user, ctx).attributes);
    expect(fields).toEqual({
      accountName: 'jsmith',
      fullName: 'John Smith',
      description: 'Accounting',
      comment: 'desk 4',
      homeDirectory: '\\\\fs1\\home\\jsmith',
      homeDrive: 'H:',
      scriptPath: 'logon.bat',
      profilePath: '\\\\fs1\\profiles\\jsmith',
      workstations: 'WS1,WS2',
      accountExpires: 134399126400000000n,
      acb: ACB.NORMAL | ACB.DISABLED,
      primaryGroupId: 513,
    });
    expect(ignored.sort()).toEqual(['groups', 'objectSid', 'passwordLastSet', 'rid']);
  });

  it('clears attributes given with no values: strings to "" and accountExpires to never (0)', () => {
    expect(userFieldsFromAttributes({ fullName: [], accountExpires: [] }).fields).toEqual({ fullName: '', accountExpires: 0n });
  });

  it('refuses what the schema does not have or cannot hold', () => {
    expect(() => userFieldsFromAttributes({ mail: ['x'] })).toThrow(expect.objectContaining({ status: 'INVALID_PARAMETER' }));
    expect(() => userFieldsFromAttributes({ fullName: ['a', 'b'] })).toThrow(/single-valued/);
    expect(() => userFieldsFromAttributes({ userAccountControl: ['512'] })).toThrow(/integer/);
    expect(() => userFieldsFromAttributes({ userAccountControl: [] })).toThrow(/cannot be cleared/);
    expect(() => userFieldsFromAttributes({ accountExpires: ['tomorrow'] })).toThrow();
  });
});

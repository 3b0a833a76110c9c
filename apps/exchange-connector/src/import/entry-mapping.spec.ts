import { MalformedEntry, dnKey, referencedDns, toCsImage, withReferences } from './entry-mapping';

describe('toCsImage', () => {
  const sid = Buffer.from('AQUAAAAAAAUVAAAAESIzRFVmd4iZuqvM6QMAAA==', 'base64');

  it('maps a mailbox with binary and multi-valued attributes byte-exactly', () => {
    const image = toCsImage(
      {
        dn: 'cn=jsmith,cn=Recipients,ou=SiteA,o=Contoso',
        objectClass: ['top', 'person', 'organizationalPerson', 'ex55Mailbox'],
        entryUUID: '9B686532-7B7F-1041-944B-B53C346756E4',
        uid: 'jsmith',
        otherMailbox: ['smtp$jsmith@contoso.com', 'x400$c=US'],
        'Assoc-NT-Account': sid,
        'userCertificate;binary': [Buffer.from([0, 1, 2, 255])],
        title: '',
      },
      'SiteA',
    );
    expect(image).toEqual({
      anchor: '9b686532-7b7f-1041-944b-b53c346756e4',
      partition: 'SiteA',
      dn: 'cn=jsmith,cn=Recipients,ou=SiteA,o=Contoso',
      objectType: 'mailbox',
      attributes: {
        uid: ['jsmith'],
        otherMailbox: ['smtp$jsmith@contoso.com', 'x400$c=US'],
        'Assoc-NT-Account': [{ b64: 'AQUAAAAAAAUVAAAAESIzRFVmd4iZuqvM6QMAAA==' }],
        'userCertificate;binary': [{ b64: 'AAEC/w==' }],
      },
    });
  });

  it('types custom recipients and distribution lists', () => {
    const base = { entryUUID: '9b686532-7b7f-1041-944b-b53c346756e4' };
    expect(toCsImage({ ...base, dn: 'cn=x', objectClass: ['top', 'Remote-Address'] }, 'S').objectType).toBe('customRecipient');
    expect(toCsImage({ ...base, dn: 'cn=y', objectClass: ['groupOfNames', 'ex55DistributionList'] }, 'S').objectType).toBe('distributionList');
  });

  it('names what is wrong with a malformed entry', () => {
    expect(() => toCsImage({ dn: 'cn=a', objectClass: 'ex55Container', entryUUID: '9b686532-7b7f-1041-944b-b53c346756e4' }, 'S')).toThrow(
      new MalformedEntry('cn=a', 'no recipient object class among [ex55container]'),
    );
    expect(() => toCsImage({ dn: 'cn=b', objectClass: 'ex55Mailbox' }, 'S')).toThrow('cn=b: missing or invalid entryUUID');
  });

  it('refuses malformed SID bytes as a per-object invalid-sid error naming what is wrong', () => {
    const entry = (bytes: Buffer) => ({ dn: 'cn=bad,cn=Recipients,ou=SiteA,o=Contoso', objectClass: ['ex55Mailbox'], entryUUID: '9b686532-7b7f-1041-944b-b53c346756e4', 'Assoc-NT-Account': bytes });
    const error = (bytes: Buffer) => {
      try {
        toCsImage(entry(bytes), 'SiteA');
      } catch (e) {
        return e as MalformedEntry;
      }
      throw new Error('no error');
    };
    expect(error(sid.subarray(0, 7))).toMatchObject({ type: 'invalid-sid', message: expect.stringMatching(/cn=bad.*Assoc-NT-Account is not a SID: 7 bytes, a SID needs at least 8/) });
    expect(error(Buffer.concat([Buffer.from([2]), sid.subarray(1)])).message).toMatch(/revision 2, expected 1/);
    expect(error(sid.subarray(0, sid.length - 1)).message).toMatch(/27 bytes for 5 sub-authorities \(expected 28\)/);
  });
});

describe('withReferences', () => {
  const list = toCsImage(
    {
      dn: 'cn=All-IT,cn=Recipients,ou=SiteA,o=Contoso',
      objectClass: ['top', 'groupOfNames', 'ex55DistributionList'],
      entryUUID: '11111111-2222-3333-4444-555555555555',
      cn: 'All IT',
      member: ['cn=jsmith,cn=Recipients,ou=SiteA,o=Contoso', 'CN=aokafor, cn=Recipients, ou=SiteB, o=Contoso', 'cn=gone,cn=Recipients,ou=SiteA,o=Contoso'],
    },
    'SiteA',
  );

  it('turns member DNs into {ref: entryUUID}, whatever their case and blanks, and leaves dangling ones out', () => {
    expect(referencedDns(list)).toHaveLength(3);
    const anchors = new Map<string, string | null>([
      [dnKey('cn=jsmith,cn=Recipients,ou=SiteA,o=Contoso'), 'aaaa'],
      [dnKey('cn=aokafor,cn=Recipients,ou=SiteB,o=Contoso'), 'bbbb'],
      [dnKey('cn=gone,cn=Recipients,ou=SiteA,o=Contoso'), null],
    ]);
    const resolved = withReferences(list, anchors);
    expect(resolved.attributes['member']).toEqual([{ ref: 'aaaa' }, { ref: 'bbbb' }]);
    expect(resolved.attributes['cn']).toEqual(['All IT']);
    expect(referencedDns(resolved)).toEqual([]);
  });

  it('drops the attribute when no member resolves (an empty list stays empty)', () => {
    expect(withReferences(list, new Map()).attributes).not.toHaveProperty('member');
  });
});

import { MalformedEntry, toCsImage } from './entry-mapping';

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
});

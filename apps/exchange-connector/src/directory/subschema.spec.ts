import { buildSchema, parseAttributeType } from './subschema';

const attributeTypes = [
  "( 2.5.4.41 NAME 'name' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} )",
  "( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'RFC4519: common name(s)' SUP name )",
  "( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )",
  "( 2.5.4.49 NAME 'distinguishedName' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
  "( 2.5.4.31 NAME 'member' DESC 'RFC2256: member of a group' SUP distinguishedName )",
  "( 2.5.4.36 NAME 'userCertificate' DESC 'X.509 user certificate, use ;binary' SYNTAX 1.3.6.1.4.1.1466.115.121.1.8 )",
  "( 1.2.3.1 NAME ( 'Assoc-NT-Account' 'assocNTAccount' ) DESC 'Binary SID' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )",
  "( 1.2.3.2 NAME ( 'Target-Address' 'targetAddress' ) SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{1024} SINGLE-VALUE )",
  "( 1.2.3.3 NAME ( 'USN-Changed' 'uSNChanged' ) SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
];
const objectClasses = [
  "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )",
  "( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( userPassword $ description ) )",
  "( 2.5.6.7 NAME 'organizationalPerson' SUP person STRUCTURAL MAY ( title $ ou ) )",
  "( 1.2.4.2 NAME ( 'ex55Mailbox' 'Mailbox' ) SUP organizationalPerson STRUCTURAL MAY ( Assoc-NT-Account $ userCertificate $ USN-Changed ) )",
  "( 1.2.4.3 NAME ( 'Remote-Address' 'ex55CustomRecipient' ) SUP top STRUCTURAL MUST ( cn $ targetAddress ) MAY userCertificate )",
  "( 2.5.6.9 NAME 'groupOfNames' SUP top STRUCTURAL MUST ( member $ cn ) MAY description )",
  "( 1.2.4.4 NAME 'ex55DistributionList' SUP top AUXILIARY MAY USN-Changed )",
];

describe('subschema discovery', () => {
  const schema = buildSchema(attributeTypes, objectClasses);
  const attr = (n: string) => schema.attributes.find((a) => a.name === n);
  const type = (n: string) => schema.objectTypes.find((t) => t.name === n);

  it('parses names, aliases, syntax and cardinality', () => {
    expect(parseAttributeType(attributeTypes[6]!)).toEqual({ oid: '1.2.3.1', names: ['Assoc-NT-Account', 'assocNTAccount'], syntax: '1.3.6.1.4.1.1466.115.121.1.40', singleValue: true });
  });

  it('resolves syntax through SUP chains and classes through their superiors', () => {
    expect(attr('Assoc-NT-Account')).toEqual({ name: 'Assoc-NT-Account', aliases: ['assocNTAccount'], syntax: 'binary', multiValued: false });
    expect(attr('userCertificate')).toMatchObject({ syntax: 'binary', multiValued: true });
    expect(attr('member')).toMatchObject({ syntax: 'reference', multiValued: true });
    expect(attr('cn')).toMatchObject({ syntax: 'string', aliases: ['commonName'] });
    expect(attr('USN-Changed')).toMatchObject({ syntax: 'integer', multiValued: false });
    expect(type('mailbox')).toMatchObject({ mandatory: ['cn', 'sn'] });
    expect(type('mailbox')!.attributes).toEqual(expect.arrayContaining(['Assoc-NT-Account', 'title', 'description', 'userCertificate']));
  });

  it('names attributes by their first NAME whatever spelling a class uses', () => {
    expect(type('customRecipient')).toMatchObject({ mandatory: ['Target-Address', 'cn'] });
    expect(type('distributionList')).toMatchObject({ mandatory: ['cn', 'member'], attributes: ['USN-Changed', 'cn', 'description', 'member'] });
  });
});

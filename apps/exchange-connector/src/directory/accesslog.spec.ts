import { auditEffects, formatWatermark, isUnder, parseWatermark, type AuditRecord } from './accesslog';

const base = 'ou=SiteA,o=Contoso';
const dn = (cn: string, site = 'SiteA') => `cn=${cn},cn=Recipients,ou=${site},o=Contoso`;

describe('auditEffects', () => {
  it('orders by reqStart and keeps only the partition', () => {
    const records: AuditRecord[] = [
      { reqStart: '20261123120000.000002Z', reqType: 'modify', reqDN: dn('b') },
      { reqStart: '20261123120000.000001Z', reqType: 'add', reqDN: dn('a') },
      { reqStart: '20261123120000.000003Z', reqType: 'add', reqDN: dn('x', 'SiteB') },
    ];
    expect(auditEffects(records, base)).toEqual([
      { kind: 'touch', dn: dn('a') },
      { kind: 'touch', dn: dn('b') },
    ]);
  });

  it('reads the anchor of a deleted entry from reqOld', () => {
    const r: AuditRecord = { reqStart: '20261123120000.000001Z', reqType: 'delete', reqDN: dn('a'), reqOld: ['uid: a', 'entryUUID: 0A2F96F6-7B8B-1041-9F1B-CB2FC888D0AF'] };
    expect(auditEffects([r], base)).toEqual([{ kind: 'delete', dn: dn('a'), anchor: '0a2f96f6-7b8b-1041-9f1b-cb2fc888d0af' }]);
  });

  it('follows a rename inside the partition and treats a move out as a delete', () => {
    const within: AuditRecord = { reqStart: '1', reqType: 'modrdn', reqDN: dn('a'), reqNewRDN: 'cn=a2' };
    const out: AuditRecord = { reqStart: '2', reqType: 'modrdn', reqDN: dn('b'), reqNewRDN: 'cn=b', reqNewSuperior: 'cn=Recipients,ou=SiteB,o=Contoso', reqOld: ['entryUUID: u-b'] };
    expect(auditEffects([within, out], base)).toEqual([
      { kind: 'touch', dn: dn('a2') },
      { kind: 'delete', dn: dn('b'), anchor: 'u-b' },
    ]);
  });

  it('compares DNs without case and spaces', () => {
    expect(isUnder('CN=a, cn=Recipients, OU=SiteA, o=Contoso', base)).toBe(true);
    expect(isUnder('cn=a,ou=SiteAB,o=Contoso', base)).toBe(false);
  });
});

describe('watermarks', () => {
  it('round-trip and refuse anything else', () => {
    expect(parseWatermark(formatWatermark({ kind: 'record', reqStart: '20261123120000.000002Z' }))).toEqual({ kind: 'record', reqStart: '20261123120000.000002Z' });
    expect(parseWatermark('empty:2026-11-23T12:00:00.000Z')).toEqual({ kind: 'empty', at: new Date('2026-11-23T12:00:00.000Z') });
    expect(() => parseWatermark('usn:12')).toThrow(/not an accesslog watermark/);
  });
});

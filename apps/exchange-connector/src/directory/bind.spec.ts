import { escapeDnValue, exchangeBindDn } from './bind';

describe('Exchange 5.5 bind DN from account and logon domain', () => {
  it('is dc=DOMAIN,cn=account, with ,cn=admin for the administrator bind', () => {
    expect(exchangeBindDn('svc-miis', 'CONTOSO', false)).toBe('dc=CONTOSO,cn=svc-miis');
    expect(exchangeBindDn(' svc-miis ', 'CONTOSO', true)).toBe('dc=CONTOSO,cn=svc-miis,cn=admin');
  });
  it('escapes what a DN cannot carry, and refuses empty parts', () => {
    expect(escapeDnValue('Smith, John')).toBe('Smith\\, John');
    expect(escapeDnValue('#a=b+c')).toBe('\\#a\\=b\\+c');
    expect(() => exchangeBindDn('', 'CONTOSO', false)).toThrow(/account name is empty/);
    expect(() => exchangeBindDn('a', ' ', false)).toThrow(/logon domain is empty/);
  });
});

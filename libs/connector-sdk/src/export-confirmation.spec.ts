import { notReimported } from './export-confirmation';
import type { CsImage } from './cs-diff';

const image = (attributes: CsImage['attributes'], dn = 'cn=a,o=X'): CsImage => ({ anchor: 'a', partition: 'P', dn, objectType: 'mailbox', attributes });

describe('notReimported (the confirming import)', () => {
  it('confirms an add whose values all came back, binary included', () => {
    const op = { op: 'add' as const, dn: 'cn=a,o=X', objectType: 'mailbox', attributes: { objectClass: ['top'], mail: ['a@x'], sid: [{ b64: 'AQI=' }] } };
    expect(notReimported(op, image({ MAIL: ['a@x'], sid: [{ b64: 'AQI=' }] }))).toEqual([]);
    expect(notReimported(op, image({ mail: ['A@X'], sid: [{ b64: 'AQM=' }] }))).toEqual(['mail', 'sid']);
  });

  it('checks each kind of attribute change', () => {
    const op = {
      op: 'update' as const,
      anchor: 'a',
      dn: 'cn=a,o=X',
      objectType: 'mailbox',
      changes: [
        { name: 'title', op: 'replace' as const, values: ['Boss'] },
        { name: 'otherMailbox', op: 'add' as const, values: ['smtp$b@x'] },
        { name: 'info', op: 'delete' as const, values: [] },
        { name: 'member', op: 'delete' as const, values: ['cn=b'] },
      ],
    };
    expect(notReimported(op, image({ title: ['Boss'], otherMailbox: ['smtp$a@x', 'smtp$b@x'], member: ['cn=c'] }))).toEqual([]);
    expect(notReimported(op, image({ title: ['Boss', 'Other'], otherMailbox: [], info: ['x'], member: ['cn=b'] }))).toEqual(['info', 'member', 'otherMailbox', 'title']);
  });

  it('checks renames and deletes by what is there afterwards', () => {
    expect(notReimported({ op: 'rename', anchor: 'a', dn: 'cn=a,o=X', newDn: 'cn=b,o=X' }, image({}, 'cn=b,o=x'))).toEqual([]);
    expect(notReimported({ op: 'rename', anchor: 'a', dn: 'cn=a,o=X', newDn: 'cn=b,o=X' }, image({}))).toEqual(['dn']);
    expect(notReimported({ op: 'delete', anchor: 'a', dn: 'cn=a,o=X' }, null)).toEqual([]);
    expect(notReimported({ op: 'delete', anchor: 'a', dn: 'cn=a,o=X' }, image({}))).toEqual(['dn']);
  });
});

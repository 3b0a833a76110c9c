import { diffAttributes, diffObject, fullImportDeletes, type StoredCsObject } from './cs-diff';

const stored: StoredCsObject = {
  anchor: 'a1',
  partition: 'SiteA',
  dn: 'cn=jsmith,cn=Recipients,ou=SiteA,o=Contoso',
  objectType: 'mailbox',
  attributes: { uid: ['jsmith'], mail: ['jsmith@contoso.com'], otherMailbox: ['x$1', 'y$2'], 'Assoc-NT-Account': [{ b64: 'AQU=' }] },
  version: 3,
  deleted: false,
};

describe('diffObject', () => {
  it('emits nothing for an unchanged object, whatever the value order or name case', () => {
    expect(diffObject(stored, { ...stored, attributes: { UID: ['jsmith'], mail: ['jsmith@contoso.com'], otherMailbox: ['y$2', 'x$1'], 'assoc-nt-account': [{ b64: 'AQU=' }] } })).toBeNull();
  });

  it('emits an add for a new or previously deleted object', () => {
    expect(diffObject(undefined, stored)).toMatchObject({ change: 'add', version: 1, delta: [] });
    expect(diffObject({ ...stored, deleted: true }, stored)).toMatchObject({ change: 'add', version: 4 });
  });

  it('emits an attribute-level update', () => {
    const change = diffObject(stored, { ...stored, attributes: { uid: ['jsmith'], mail: ['john@contoso.com'], otherMailbox: [], title: ['Eng'], 'Assoc-NT-Account': [{ b64: 'AQU=' }] } });
    expect(change).toMatchObject({ change: 'update', version: 4, previousDn: null });
    expect(change!.delta).toEqual([
      { name: 'mail', op: 'replace', values: ['john@contoso.com'] },
      { name: 'otherMailbox', op: 'delete', values: ['x$1', 'y$2'] },
      { name: 'title', op: 'add', values: ['Eng'] },
    ]);
  });

  it('detects a rename by DN with the previous DN', () => {
    const change = diffObject(stored, { ...stored, dn: 'cn=john.smith,cn=Recipients,ou=SiteA,o=Contoso' });
    expect(change).toMatchObject({ change: 'rename', previousDn: stored.dn, delta: [] });
  });

  it('treats binary values byte-exactly', () => {
    expect(diffAttributes({ cert: [{ b64: 'AAE=' }] }, { cert: [{ b64: 'AAI=' }] })).toEqual([{ name: 'cert', op: 'replace', values: [{ b64: 'AAI=' }] }]);
  });
});

describe('fullImportDeletes', () => {
  const objects = [stored, { ...stored, anchor: 'a2' }, { ...stored, anchor: 'a3', deleted: true }];

  it('deletes what a completed read did not return', () => {
    const result = fullImportDeletes(objects, new Set(['a1']), true);
    expect(result.withheld).toBe(0);
    expect(result.deletes.map((d) => [d.change, d.image.anchor, d.version])).toEqual([['delete', 'a2', 4]]);
  });

  it('withholds every delete when the read had errors', () => {
    expect(fullImportDeletes(objects, new Set(), false)).toEqual({ deletes: [], withheld: 2 });
  });
});

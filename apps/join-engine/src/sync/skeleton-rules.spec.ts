import type { CsObjectChangedV1 } from '@metaweave/contracts';
import { decide } from './skeleton-rules';

const base: CsObjectChangedV1 = {
  connector: 'exchange',
  partition: 'SiteA',
  anchor: 'a1',
  objectType: 'mailbox',
  dn: 'cn=jsmith,cn=Recipients,ou=SiteA,o=Contoso',
  previousDn: null,
  change: 'add',
  attributes: { mail: ['jsmith@contoso.com'] },
  delta: [],
  csVersion: 1,
};
const id = () => '3f1d2c4b-5a6e-4f70-8b9c-0d1e2f3a4b5c';

describe('skeleton sync decision', () => {
  it('projects a new mailbox to a person', () => {
    const d = decide(base, undefined, undefined, id)!;
    expect(d.event).toMatchObject({ change: 'projected', objectType: 'person', version: 1, mvObjectId: id() });
    expect(d.link).toEqual({ connector: 'exchange', anchor: 'a1', csVersion: 1, mvObjectId: id() });
  });

  it('flows an update and bumps the MV version', () => {
    const first = decide(base, undefined, undefined, id)!;
    const d = decide({ ...base, change: 'update', csVersion: 2, attributes: { mail: ['j@x'] } }, first.link!, first.mv, id)!;
    expect(d.event).toMatchObject({ change: 'updated', version: 2, attributes: { mail: ['j@x'] } });
  });

  it('ignores a redelivered or stale change', () => {
    const first = decide(base, undefined, undefined, id)!;
    expect(decide(base, first.link!, first.mv, id)).toBeNull();
  });

  it('deletes the MV object with its last connector, and ignores deletes of unknown objects', () => {
    const first = decide(base, undefined, undefined, id)!;
    const d = decide({ ...base, change: 'delete', csVersion: 2, attributes: {} }, first.link!, first.mv, id)!;
    expect(d.event).toMatchObject({ change: 'deleted', version: 2, connectors: [] });
    expect(d.link).toBeNull();
    expect(decide({ ...base, change: 'delete', csVersion: 2 }, undefined, undefined, id)).toBeNull();
  });
});

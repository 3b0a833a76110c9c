import type { Message } from '@metaweave/contracts';
import { applyMvEventToRoute, nt4Accounts, parseNt4Dn } from './routes';

const ID = '3f1c2a8e-0000-4000-8000-000000000001';
const configured = new Set(['nt4-contoso', 'ntdomain-b']);

function mvEvent(version: number, change: 'projected' | 'updated' | 'deleted', connectors: Message<'mv.object.changed'>['data']['connectors'], objectType = 'person'): Message<'mv.object.changed'> {
  return {
    eventId: `00000000-0000-4000-8000-00000000000${version}`,
    type: 'mv.object.changed',
    schemaVersion: 2,
    occurredAt: '2026-11-23T10:00:00.000Z',
    source: 'join-engine',
    correlationId: 'c',
    causationId: null,
    data: { mvObjectId: ID, objectType, version, change, attributes: {}, connectors, lineage: [], rulesVersion: 'r1', cause: { connector: 'x', anchor: 'y', csVersion: 1 }, reason: 'join' },
  };
}

const exchange = { connector: 'exchange', anchor: 'guid-1', dn: 'cn=jsmith,cn=Recipients,ou=SiteA,o=Contoso', state: 'connected' as const };
const nt4 = { connector: 'nt4-contoso', anchor: 'S-1-5-21-1-2-3-1001', dn: 'CONTOSO\\jsmith', state: 'connected' as const };
const otherDomain = { connector: 'ntdomain-b', anchor: 'S-1-5-21-9-9-9-1002', dn: 'fabrikam\\js', state: 'explicitly-connected' as const };

describe('routing view', () => {
  it('keeps the NT4 accounts of a person: configured connectors and any nt4-* connector, not others', () => {
    const row = applyMvEventToRoute(undefined, mvEvent(1, 'projected', [exchange, nt4, otherDomain, { ...nt4, connector: 'nt4-unconfigured' }]), configured);
    expect(row).toEqual({
      mvObjectId: ID,
      objectType: 'person',
      version: 1,
      deleted: false,
      accounts: [
        { connector: 'nt4-contoso', anchor: nt4.anchor, domain: 'CONTOSO', accountName: 'jsmith' },
        { connector: 'nt4-unconfigured', anchor: nt4.anchor, domain: 'CONTOSO', accountName: 'jsmith' },
        { connector: 'ntdomain-b', anchor: otherDomain.anchor, domain: 'FABRIKAM', accountName: 'js' },
      ],
    });
  });

  it('is idempotent and ignores stale events (per-object version)', () => {
    const v2 = applyMvEventToRoute(undefined, mvEvent(2, 'updated', [nt4]), configured)!;
    expect(applyMvEventToRoute(v2, mvEvent(2, 'updated', [nt4]), configured)).toBeNull();
    expect(applyMvEventToRoute(v2, mvEvent(1, 'projected', []), configured)).toBeNull();
    expect(applyMvEventToRoute(v2, mvEvent(3, 'updated', [exchange]), configured)?.accounts).toEqual([]);
  });

  it('a deleted object has no accounts', () => {
    const row = applyMvEventToRoute(undefined, mvEvent(1, 'projected', [nt4]), configured)!;
    expect(applyMvEventToRoute(row, mvEvent(2, 'deleted', [nt4]), configured)).toMatchObject({ deleted: true, accounts: [] });
  });

  it('parses DOMAIN\\name and keeps an unparseable DN addressable only for an error message', () => {
    expect(parseNt4Dn('contoso\\a.b')).toEqual({ domain: 'CONTOSO', accountName: 'a.b' });
    expect(parseNt4Dn('cn=x,o=y')).toBeNull();
    expect(nt4Accounts([{ ...nt4, dn: 'weird' }], configured)).toEqual([{ connector: 'nt4-contoso', anchor: nt4.anchor, domain: '', accountName: '' }]);
  });
});

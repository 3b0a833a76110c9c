import { decodeMessage, encodeMessage } from '@metaweave/contracts';
import { generateRecipientKeyPair, openPassword, sealPassword, SealedSecretError } from '@metaweave/secrets';
import type { Nt4Target } from '../config';
import type { RouteRow } from '../routing/routes';
import { planOperation, PasswordRequestRefused, type PlanContext } from './plan';

const contosoKeys = generateRecipientKeyPair('contoso-1');
const fabrikamKeys = generateRecipientKeyPair('fabrikam-1');
const connectors = new Map<string, Nt4Target>([
  ['nt4-contoso', { connector: 'nt4-contoso', domain: 'CONTOSO', kid: 'contoso-1', publicKeyPem: contosoKeys.publicKeyPem }],
  ['nt4-fabrikam', { connector: 'nt4-fabrikam', domain: 'FABRIKAM', kid: 'fabrikam-1', publicKeyPem: fabrikamKeys.publicKeyPem }],
]);
const PERSON = '3f1c2a8e-0000-4000-8000-000000000001';
const route: RouteRow = {
  mvObjectId: PERSON,
  objectType: 'person',
  version: 3,
  deleted: false,
  accounts: [
    { connector: 'nt4-contoso', anchor: 'S-1-5-21-1-2-3-1001', domain: 'CONTOSO', accountName: 'jsmith' },
    { connector: 'nt4-fabrikam', anchor: 'S-1-5-21-4-5-6-1001', domain: 'FABRIKAM', accountName: 'john' },
  ],
};
const SECRET = 'Corr3ct-Horse-Battery!';

let ids = 0;
const ctx: PlanContext = {
  operationId: '00000000-0000-4000-8000-0000000000aa',
  requestedBy: 'alice',
  now: new Date('2026-11-23T10:00:00.000Z'),
  commandTtlMs: 300_000,
  connectors,
  newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
  source: 'password-service',
  topicPrefix: 't.',
  seal: (secret, recipient, command) => sealPassword(secret, recipient, command),
};

function refusal(fn: () => unknown): PasswordRequestRefused {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PasswordRequestRefused);
    return e as PasswordRequestRefused;
  }
  throw new Error('not refused');
}

describe('planning a password set', () => {
  it('one sealed command per NT4 account, keyed connector/domain, with expiry; only that connector’s key opens it', () => {
    const plan = planOperation({ op: 'set', mvObjectId: PERSON, route, forceChangeAtNextLogon: true, unlock: false }, { newPassword: SECRET }, ctx);
    expect(plan.targets.map((t) => `${t.connector}/${t.domain}/${t.accountName}`)).toEqual(['nt4-contoso/CONTOSO/jsmith', 'nt4-fabrikam/FABRIKAM/john']);
    expect(plan.commands.map((c) => [c.topic, c.key])).toEqual([
      ['t.mw.password.commands', 'nt4-contoso/CONTOSO'],
      ['t.mw.password.commands', 'nt4-fabrikam/FABRIKAM'],
    ]);
    const [contoso, fabrikam] = plan.commands.map((c) => decodeMessage(encodeMessage(c.message), ['password.command']).data as never as Parameters<typeof openPassword>[0] & { expiresAt: string; forceChangeAtNextLogon: boolean; requestedBy: string });
    expect(contoso!.expiresAt).toBe('2026-11-23T10:05:00.000Z');
    expect(contoso!.forceChangeAtNextLogon).toBe(true);
    expect(contoso!.requestedBy).toBe('alice');
    expect(openPassword(contoso!, [contosoKeys])).toEqual({ newPassword: SECRET });
    expect(openPassword(fabrikam!, [fabrikamKeys])).toEqual({ newPassword: SECRET });
    expect(() => openPassword(contoso!, [{ ...fabrikamKeys, kid: 'contoso-1' }])).toThrow(SealedSecretError);
    // Moved into another command (different id or expiry), the sealed secret no longer opens.
    expect(() => openPassword({ ...contoso!, expiresAt: '2026-11-23T11:00:00.000Z' }, [contosoKeys])).toThrow(/does not authenticate/);
  });

  it('the clear password appears nowhere in what is stored or published', () => {
    const plan = planOperation({ op: 'set', mvObjectId: PERSON, route, forceChangeAtNextLogon: false, unlock: true }, { newPassword: SECRET }, ctx);
    const everything = JSON.stringify(plan) + plan.commands.map((c) => encodeMessage(c.message).toString('latin1')).join('');
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(Buffer.from(SECRET).toString('base64'));
  });

  it('named targets only, and refuses one that is not the person’s', () => {
    const plan = planOperation({ op: 'set', mvObjectId: PERSON, route, targets: [{ connector: 'nt4-fabrikam', anchor: 'S-1-5-21-4-5-6-1001' }], forceChangeAtNextLogon: false, unlock: false }, { newPassword: SECRET }, ctx);
    expect(plan.targets.map((t) => t.connector)).toEqual(['nt4-fabrikam']);
    const r = refusal(() => planOperation({ op: 'set', mvObjectId: PERSON, route, targets: [{ connector: 'nt4-contoso', anchor: 'S-1-5-21-1-2-3-9999' }], forceChangeAtNextLogon: false, unlock: false }, { newPassword: SECRET }, ctx));
    expect(r.kind).toBe('unknown-target');
    expect(r.message).toContain('nt4-contoso/S-1-5-21-1-2-3-9999');
  });

  it('refuses what cannot be routed, naming why, and never quotes the password', () => {
    const set = (r: RouteRow | undefined) => () => planOperation({ op: 'set', mvObjectId: PERSON, route: r, forceChangeAtNextLogon: false, unlock: false }, { newPassword: SECRET }, ctx);
    const cases: [RouteRow | undefined, string][] = [
      [undefined, 'unknown-person'],
      [{ ...route, deleted: true }, 'person-deleted'],
      [{ ...route, objectType: 'group' }, 'not-a-person'],
      [{ ...route, accounts: [] }, 'no-nt4-account'],
      [{ ...route, accounts: [{ connector: 'nt4-other', anchor: 'S-1', domain: 'OTHER', accountName: 'x' }] }, 'connector-not-configured'],
      [{ ...route, accounts: [{ connector: 'nt4-contoso', anchor: 'S-1', domain: 'FABRIKAM', accountName: 'x' }] }, 'account-not-addressable'],
      [{ ...route, accounts: [{ connector: 'nt4-contoso', anchor: 'S-1', domain: '', accountName: '' }] }, 'account-not-addressable'],
    ];
    for (const [r, kind] of cases) {
      const e = refusal(set(r));
      expect(e.kind).toBe(kind);
      expect(e.message).not.toContain(SECRET);
    }
  });
});

describe('planning a password change', () => {
  it('finds the account in the routing view and seals old and new password', () => {
    const plan = planOperation({ op: 'change', connector: 'nt4-contoso', anchor: 'S-1-5-21-1-2-3-1001', owners: [route] }, { newPassword: SECRET, oldPassword: 'Old-Pa55' }, ctx);
    expect(plan.mvObjectId).toBeNull();
    expect(plan.targets).toHaveLength(1);
    const data = plan.commands[0]!.message.data;
    expect(data.op).toBe('change');
    expect(openPassword(data, [contosoKeys])).toEqual({ newPassword: SECRET, oldPassword: 'Old-Pa55' });
  });

  it('refuses an account it does not know', () => {
    expect(refusal(() => planOperation({ op: 'change', connector: 'nt4-contoso', anchor: 'S-9', owners: [] }, { newPassword: SECRET, oldPassword: 'x' }, ctx)).kind).toBe('unknown-account');
  });
});

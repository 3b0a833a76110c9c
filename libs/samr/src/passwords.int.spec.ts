// Passwords against the live Samba classic PDC, each outcome checked by authenticating as the
// user over a fresh SMB session (verifyLogon), never by reading a flag.
import { uniqueSuffix } from '@metaweave/testing';
import { ACB } from './account-control';
import type { SamrDomain } from './bridge';
import { isSamrError, type SamrError } from './errors';
import { connectStandIn, expectStatus } from './int-support';

const prefix = `sp${uniqueSuffix().slice(0, 5)}`;
const tag = uniqueSuffix();
const pw = (n: string) => `Pw-${n}-${tag}!`; // distinct and traceable in logs
let standIn: Awaited<ReturnType<typeof connectStandIn>>;
let domain: SamrDomain;


beforeAll(async () => {
  standIn = await connectStandIn(prefix);
  domain = standIn.domain;
});

afterAll(() => standIn?.close());

describe('SAMR passwords (live Samba)', () => {
  it('creates an enabled account with an initial password that logs on', async () => {
    const u = await domain.createUser({ accountName: `${prefix}init`, password: pw('init') });
    expect(u.acb).toBe(ACB.NORMAL);
    expect(u.passwordLastSet).toBeGreaterThan(0n);
    expect(await domain.verifyLogon(`${prefix}init`, pw('init'))).toMatchObject({ ok: true });
    expect(await domain.verifyLogon(`${prefix}init`, pw('other'))).toEqual({ ok: false, status: 'LOGON_FAILURE', ntStatus: 'NT_STATUS_LOGON_FAILURE' });
  });

  it('sets a password (admin reset): the new one logs on, the old one no longer does', async () => {
    const u = await domain.createUser({ accountName: `${prefix}reset`, password: pw('old') });
    const before = u.passwordLastSet;
    const r = await domain.setPassword(u.rid, pw('new'));
    // level 26 (SAMPR_ENCRYPTED_USER_PASSWORD_NEW, salted RC4-MD5) is what Samba accepts first
    expect(r).toMatchObject({ rid: u.rid, passwordExpired: false, unlocked: false, level: 26 });
    expect(r.passwordLastSet).toBeGreaterThanOrEqual(before);
    expect(await domain.verifyLogon(`${prefix}reset`, pw('new'))).toMatchObject({ ok: true });
    expect(await domain.verifyLogon(`${prefix}reset`, pw('old'))).toMatchObject({ ok: false, status: 'LOGON_FAILURE' });
  });

  it('sets a password the user must change at next logon', async () => {
    const u = await domain.createUser({ accountName: `${prefix}force`, password: pw('f0') });
    const r = await domain.setPassword(u.rid, pw('f1'), { forceChangeAtNextLogon: true });
    expect(r.passwordExpired).toBe(true);
    expect((await domain.getUser(u.rid)).passwordExpired).toBe(true);
    const logon = await domain.verifyLogon(`${prefix}force`, pw('f1'));
    expect(logon).toEqual({ ok: false, status: 'ACCOUNT_RESTRICTION', ntStatus: 'NT_STATUS_PASSWORD_MUST_CHANGE' });
    // the user changes it (proving the old one): then the account logs on
    await domain.changePassword(`${prefix}force`, pw('f1'), pw('f2'));
    expect(await domain.verifyLogon(`${prefix}force`, pw('f2'))).toMatchObject({ ok: true });
  });

  it('sets through levels 24 and 23 as well (the fallbacks for servers without level 26)', async () => {
    const u = await domain.createUser({ accountName: `${prefix}lvl23`, password: pw('a') });
    expect(await domain.setPassword(u.rid, pw('b'), { level: 23 })).toMatchObject({ level: 23 });
    expect(await domain.verifyLogon(`${prefix}lvl23`, pw('b'))).toMatchObject({ ok: true });
    expect(await domain.setPassword(u.rid, pw('c'), { level: 24, forceChangeAtNextLogon: true })).toMatchObject({ level: 24, passwordExpired: true });
    expect(await domain.verifyLogon(`${prefix}lvl23`, pw('c'))).toMatchObject({ ok: false, ntStatus: 'NT_STATUS_PASSWORD_MUST_CHANGE' });
  });

  it('changes a password when the user proves the old one (SamrUnicodeChangePasswordUser2)', async () => {
    await domain.createUser({ accountName: `${prefix}chg`, password: pw('c1') });
    await domain.changePassword(`${prefix}chg`, pw('c1'), pw('c2'));
    expect(await domain.verifyLogon(`${prefix}chg`, pw('c2'))).toMatchObject({ ok: true });
    expect(await domain.verifyLogon(`${prefix}chg`, pw('c1'))).toMatchObject({ ok: false, status: 'LOGON_FAILURE' });
  });

  it('gives WRONG_PASSWORD for a wrong old password, and for an account that does not exist', async () => {
    await domain.createUser({ accountName: `${prefix}wrong`, password: pw('w1') });
    const e = await expectStatus(domain.changePassword(`${prefix}wrong`, pw('not-it'), pw('w2')), 'WRONG_PASSWORD');
    expect(e.retriable).toBe(false);
    expect(e.category).toBe('InvalidCredentials');
    expect(await domain.verifyLogon(`${prefix}wrong`, pw('w1'))).toMatchObject({ ok: true });
    // Samba does not tell "no such account" from "wrong password" here (no account probing)
    await expectStatus(domain.changePassword(`${prefix}nobody`, pw('x'), pw('y')), 'WRONG_PASSWORD');
  });

  it('gives PASSWORD_RESTRICTION for a password the domain policy refuses', async () => {
    const policy = await domain.passwordPolicy();
    expect(policy.minPasswordLength).toBeGreaterThan(2);
    await domain.createUser({ accountName: `${prefix}short`, password: pw('s1') });
    const e = await expectStatus(domain.changePassword(`${prefix}short`, pw('s1'), 'ab'), 'PASSWORD_RESTRICTION');
    expect(e.category).toBe('PasswordPolicyViolation');
    expect(await domain.verifyLogon(`${prefix}short`, pw('s1'))).toMatchObject({ ok: true });
  });

  it('refuses a logon of a disabled account with ACCOUNT_DISABLED (a value, not an exception)', async () => {
    const u = await domain.createUser({ accountName: `${prefix}dis`, password: pw('d') });
    await domain.updateUser(u.rid, { enabled: false });
    expect(await domain.verifyLogon(`${prefix}dis`, pw('d'))).toEqual({ ok: false, status: 'ACCOUNT_DISABLED', ntStatus: 'NT_STATUS_ACCOUNT_DISABLED' });
    await domain.updateUser(u.rid, { enabled: true });
    expect(await domain.verifyLogon(`${prefix}dis`, pw('d'))).toMatchObject({ ok: true });
  });

  it('setPassword on a missing account is NO_SUCH_USER; unlock on an unlocked account changes nothing', async () => {
    await expectStatus(domain.setPassword(0x7ffffff0, pw('z')), 'NO_SUCH_USER');
    const u = await domain.createUser({ accountName: `${prefix}unl`, password: pw('u1') });
    const r = await domain.setPassword(u.rid, pw('u2'), { unlock: true });
    expect(r).toMatchObject({ unlocked: false, acb: ACB.NORMAL });
    expect(await domain.verifyLogon(`${prefix}unl`, pw('u2'))).toMatchObject({ ok: true });
  });

  it('refuses an over-long password before creating anything', async () => {
    await expectStatus(domain.createUser({ accountName: `${prefix}long`, password: 'x'.repeat(257) }), 'INVALID_PARAMETER');
    expect((await domain.lookupNames([`${prefix}long`]))[0]!.rid).toBeNull();
  });

  it('rolls a create back when a step after CreateUser2 fails, and says which step', async () => {
    // a primary group that does not exist: the server refuses the level-21 write after the account exists
    const e = await domain.createUser({ accountName: `${prefix}roll`, password: pw('r'), fields: { primaryGroupId: 0x7ffffff0 } }).then(
      () => undefined,
      (err: unknown) => err as SamrError,
    );
    expect(isSamrError(e)).toBe(true);
    expect(e!.step).toBe('fields');
    expect((await domain.lookupNames([`${prefix}roll`]))[0]!.rid).toBeNull();
  });
});

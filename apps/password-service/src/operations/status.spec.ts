import { operationStatus, targetView, type StoredTarget } from './status';

const t: StoredTarget = {
  commandId: 'c1',
  connector: 'nt4-contoso',
  domain: 'CONTOSO',
  anchor: 'S-1',
  accountName: 'jsmith',
  expiresAt: '2026-11-23T10:05:00.000Z',
  result: null,
  message: null,
  completedAt: null,
};

describe('operation status', () => {
  it('a target without outcome is pending until expiry plus grace, then expired with a reason', () => {
    expect(targetView(t, new Date('2026-11-23T10:05:20Z'), 30_000).result).toBe('pending');
    const late = targetView(t, new Date('2026-11-23T10:05:31Z'), 30_000);
    expect(late.result).toBe('expired');
    expect(late.message).toMatch(/no outcome from nt4-contoso before the command expired/);
    expect(late.completedAt).toBe('2026-11-23T10:05:30.000Z');
  });

  it('an outcome wins over the clock', () => {
    const done = targetView({ ...t, result: 'bad-password', message: 'wrong old password', completedAt: '2026-11-23T10:01:00.000Z' }, new Date('2026-11-24T00:00:00Z'), 0);
    expect(done).toMatchObject({ result: 'bad-password', message: 'wrong old password' });
  });

  it('aggregates: pending while any target is, succeeded / failed / partially-succeeded after', () => {
    const v = (result: StoredTarget['result']) => targetView({ ...t, result, completedAt: result ? t.expiresAt : null }, new Date('2026-11-23T10:00:00Z'), 0);
    expect(operationStatus([v('success'), v(null)])).toBe('pending');
    expect(operationStatus([v('success'), v('success')])).toBe('succeeded');
    expect(operationStatus([v('new-password-violate-policy')])).toBe('failed');
    expect(operationStatus([v('success'), v('target-unreachable')])).toBe('partially-succeeded');
  });
});

import { SamrError, categoryOf, isSamrError, scrubSecrets, statusFromNt } from './errors';
import { validateAccountName, validateGroupName } from './names';

describe('NT_STATUS -> typed status', () => {
  it.each([
    ['NT_STATUS_NO_SUCH_USER', 0xc0000064, 'NO_SUCH_USER', false],
    ['NT_STATUS_USER_EXISTS', 0xc0000063, 'USER_EXISTS', false],
    ['NT_STATUS_GROUP_EXISTS', 0xc0000065, 'GROUP_EXISTS', false],
    ['NT_STATUS_NO_SUCH_GROUP', 0xc0000066, 'NO_SUCH_GROUP', false],
    ['NT_STATUS_MEMBER_IN_GROUP', 0xc0000067, 'MEMBER_IN_GROUP', false],
    ['NT_STATUS_MEMBER_NOT_IN_GROUP', 0xc0000068, 'MEMBER_NOT_IN_GROUP', false],
    ['NT_STATUS_WRONG_PASSWORD', 0xc000006a, 'WRONG_PASSWORD', false],
    ['NT_STATUS_PASSWORD_RESTRICTION', 0xc000006c, 'PASSWORD_RESTRICTION', false],
    ['NT_STATUS_ACCOUNT_LOCKED_OUT', 0xc0000234, 'ACCOUNT_LOCKED_OUT', false],
    ['NT_STATUS_ACCOUNT_DISABLED', 0xc0000072, 'ACCOUNT_DISABLED', false],
    ['NT_STATUS_ACCOUNT_EXPIRED', 0xc0000193, 'ACCOUNT_RESTRICTION', false],
    ['NT_STATUS_ACCESS_DENIED', 0xc0000022, 'ACCESS_DENIED', false],
    ['NT_STATUS_LOGON_FAILURE', 0xc000006d, 'LOGON_FAILURE', false],
    ['NT_STATUS_INVALID_PARAMETER', 0xc000000d, 'INVALID_PARAMETER', false],
    ['NT_STATUS_NAME_TOO_LONG', 0xc0000106, 'NAME_TOO_LONG', false],
    ['NT_STATUS_NO_SUCH_DOMAIN', 0xc00000df, 'NO_SUCH_DOMAIN', false],
    ['NT_STATUS_CONNECTION_REFUSED', 0xc0000236, 'UNREACHABLE', true],
    ['NT_STATUS_HOST_UNREACHABLE', 0xc000023d, 'UNREACHABLE', true],
    ['NT_STATUS_PIPE_DISCONNECTED', 0xc00000b0, 'CONNECTION_BROKEN', true],
    ['NT_STATUS_IO_TIMEOUT', 0xc00000b5, 'TIMEOUT', true],
    ['NT_STATUS_NOT_IMPLEMENTED', 0xc0000002, 'NOT_SUPPORTED', false],
  ] as const)('%s (0x%s) is %s', (name, code, status, retriable) => {
    expect(statusFromNt(name)).toBe(status);
    expect(statusFromNt(`NT_STATUS_0x${code.toString(16).toUpperCase()}`, code)).toBe(status);
    const e = SamrError.fromWire({ status: name, code, message: 'm', retriable: false }, 'op');
    expect(e.status).toBe(status);
    expect(e.retriable).toBe(retriable);
    expect(e.ntStatus).toBe(name);
  });

  it('never guesses an unknown status', () => {
    expect(statusFromNt('NT_STATUS_SOMETHING_NEW', 0xc0ffee00)).toBe('UNKNOWN');
    expect(statusFromNt(undefined)).toBe('UNKNOWN');
  });

  it('keeps the retriable bit the bridge sent (a write cut off mid-way)', () => {
    const e = SamrError.fromWire({ status: 'NT_STATUS_NO_MEMORY', code: 0xc0000017, message: 'connect', retriable: true }, 'connect');
    expect(e.status).toBe('UNKNOWN');
    expect(e.retriable).toBe(true);
  });

  it('groups statuses into the identity-error families of style.md', () => {
    expect(categoryOf('USER_EXISTS')).toBe('AlreadyExists');
    expect(categoryOf('NO_SUCH_USER')).toBe('UnknownObject');
    expect(categoryOf('PASSWORD_RESTRICTION')).toBe('PasswordPolicyViolation');
    expect(categoryOf('LOGON_FAILURE')).toBe('InvalidCredentials');
    expect(categoryOf('UNREACHABLE')).toBe('ConnectionBroken');
    expect(new SamrError('MEMBER_IN_GROUP', 'x').category).toBe('Conflict');
  });

  it('scrubs every secret from a message, longest first', () => {
    expect(scrubSecrets('pw Secret1 and Secret12 and Secret1', ['Secret1', 'Secret12', undefined, ''])).toBe('pw *** and *** and ***');
    const e = SamrError.fromWire({ status: 'NT_STATUS_INTERNAL_ERROR', code: 0xc00000e5, message: 'bad value Hunter2!', retriable: false }, 'setPassword', [
      'Hunter2!',
    ]);
    expect(e.message).toBe('setPassword: bad value *** (NT_STATUS_INTERNAL_ERROR)');
    expect(isSamrError(e, 'INTERNAL')).toBe(true);
    expect(isSamrError(new Error('x'))).toBe(false);
  });
});

describe('NT 4.0 name rules (checked before any call)', () => {
  it('allows 20 characters and refuses 21', () => {
    expect(() => validateAccountName('a'.repeat(20))).not.toThrow();
    let error: unknown;
    try {
      validateAccountName('a'.repeat(21));
    } catch (e) {
      error = e;
    }
    expect(isSamrError(error, 'NAME_TOO_LONG')).toBe(true);
    expect((error as SamrError).retriable).toBe(false);
  });

  it.each(['a/b', 'a\\b', 'a[b', 'a]b', 'a:b', 'a;b', 'a|b', 'a=b', 'a,b', 'a+b', 'a*b', 'a?b', 'a<b', 'a>b', 'a"b', '...', ' ', '', 'a\u0001'])(
    'refuses %j',
    (name) => {
      expect(() => validateAccountName(name)).toThrow(expect.objectContaining({ status: 'INVALID_PARAMETER' }));
    },
  );

  it('allows long group names up to 256 characters', () => {
    expect(() => validateGroupName('g'.repeat(256))).not.toThrow();
    expect(() => validateGroupName('g'.repeat(257))).toThrow(expect.objectContaining({ status: 'NAME_TOO_LONG' }));
  });
});

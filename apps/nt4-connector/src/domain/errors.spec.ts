import { ConnectorError } from '@metaweave/connector-sdk';
import { SamrError, type SamrStatus } from '@metaweave/samr';
import { toConnectorError } from './nt4-export';
import { passwordResultOf } from './passwords';

describe('NT_STATUS → typed export errors and MIIS password results', () => {
  it.each<[SamrStatus, string, boolean]>([
    ['USER_EXISTS', 'already-exists', false],
    ['GROUP_EXISTS', 'already-exists', false],
    ['NO_SUCH_USER', 'unknown-object', false],
    ['NO_SUCH_GROUP', 'unknown-object', false],
    ['ACCESS_DENIED', 'insufficient-rights', false],
    ['NAME_TOO_LONG', 'invalid-value', false],
    ['INVALID_PARAMETER', 'invalid-value', false],
    ['LOGON_FAILURE', 'invalid-credentials', false],
    ['UNREACHABLE', 'connection-broken', true],
    ['CONNECTION_BROKEN', 'connection-broken', true],
    ['INTERNAL', 'other', false],
  ])('export: %s → %s (retriable %s)', (status, type, retriable) => {
    const e = toConnectorError(new SamrError(status, 'the server said no'), 'add of CONTOSO\\bob');
    expect(e).toBeInstanceOf(ConnectorError);
    expect(e).toMatchObject({ type, retriable });
    expect(e.message).toMatch(/^add of CONTOSO\\bob refused: /);
  });

  it('keeps a ConnectorError as it is and types anything else as other', () => {
    const mine = new ConnectorError('invalid-value', 'bad dn');
    expect(toConnectorError(mine, 'x')).toBe(mine);
    expect(toConnectorError(new Error('boom'), 'delete of D\\x')).toMatchObject({ type: 'other', message: 'delete of D\\x failed: boom' });
  });

  it.each<[SamrStatus, string]>([
    ['PASSWORD_RESTRICTION', 'new-password-violate-policy'],
    ['WRONG_PASSWORD', 'bad-password'],
    ['ACCESS_DENIED', 'access-denied'],
    ['ACCOUNT_LOCKED_OUT', 'access-denied'],
    ['LOGON_FAILURE', 'ma-credentials-failure'],
    ['NO_SUCH_USER', 'ma-object-not-found'],
    ['UNREACHABLE', 'target-unreachable'],
    ['TIMEOUT', 'target-unreachable'],
    ['INTERNAL', 'failed'],
  ])('password: %s → %s', (status, result) => {
    expect(passwordResultOf(status)).toBe(result);
  });
});

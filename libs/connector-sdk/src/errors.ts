/** What went wrong in a connected directory, in words an operator acts on (MIIS error types). */
export type ConnectorErrorType =
  | 'already-exists'
  | 'unknown-object'
  | 'insufficient-rights'
  | 'missing-mandatory-attribute'
  | 'invalid-value'
  | 'invalid-credentials'
  | 'connection-broken'
  | 'other';

/**
 * A typed failure of a connector operation. `retriable`: the same operation may succeed later
 * unchanged (connection broken); otherwise someone must change data, rights or configuration.
 */
export class ConnectorError extends Error {
  constructor(
    readonly type: ConnectorErrorType,
    message: string,
    readonly retriable = type === 'connection-broken',
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}

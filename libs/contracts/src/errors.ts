/**
 * A message that does not satisfy its contract. Never retriable: redelivering the same bytes
 * cannot fix them, so consumers send it to the dead-letter topic with this message as the reason.
 */
export class ContractViolation extends Error {
  readonly retriable = false;
  constructor(
    message: string,
    readonly details: { readonly type?: string; readonly schemaVersion?: number; readonly issues?: readonly string[] } = {},
  ) {
    super(message);
    this.name = 'ContractViolation';
  }
}

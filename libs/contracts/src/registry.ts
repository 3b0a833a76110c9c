import type { z } from 'zod';
import { envelopeHeaderSchema, type Envelope } from './envelope';
import { ContractViolation } from './errors';
import { CS_OBJECT_CHANGED, csObjectChangedV1Schema, type CsObjectChangedV1 } from './events/cs-object-changed';
import { EXPORT_COMMAND, EXPORT_OUTCOME, exportCommandV1Schema, exportOutcomeV1Schema, type ExportCommandV1, type ExportOutcomeV1 } from './events/export';
import {
  MV_OBJECT_CHANGED,
  mvObjectChangedV1Schema,
  mvObjectChangedV2Schema,
  upcastMvObjectChangedV1,
  type MvObjectChangedV2,
} from './events/mv-object-changed';
import {
  PASSWORD_COMMAND,
  PASSWORD_OUTCOME,
  passwordCommandV1Schema,
  passwordOutcomeV1Schema,
  type PasswordCommandV1,
  type PasswordOutcomeV1,
} from './events/password';
import { RUN_EVENT, runEventV1Schema, type RunEventV1 } from './events/run-event';

/** Current schema version and data type of every message type. */
export interface MessageTypes {
  [CS_OBJECT_CHANGED]: CsObjectChangedV1;
  [MV_OBJECT_CHANGED]: MvObjectChangedV2;
  [EXPORT_COMMAND]: ExportCommandV1;
  [EXPORT_OUTCOME]: ExportOutcomeV1;
  [RUN_EVENT]: RunEventV1;
  [PASSWORD_COMMAND]: PasswordCommandV1;
  [PASSWORD_OUTCOME]: PasswordOutcomeV1;
}
export type MessageType = keyof MessageTypes;
export type Message<T extends MessageType = MessageType> = Envelope<T, MessageTypes[T]>;

interface VersionedContract {
  readonly current: number;
  /** Schema of each version still accepted on the wire. */
  readonly schemas: Readonly<Record<number, z.ZodType>>;
  /** Upcaster from version n to n+1, for every n below current. */
  readonly upcasters: Readonly<Record<number, (data: unknown) => unknown>>;
}

export const CONTRACTS: Readonly<Record<MessageType, VersionedContract>> = {
  [CS_OBJECT_CHANGED]: { current: 1, schemas: { 1: csObjectChangedV1Schema }, upcasters: {} },
  [MV_OBJECT_CHANGED]: {
    current: 2,
    schemas: { 1: mvObjectChangedV1Schema, 2: mvObjectChangedV2Schema },
    upcasters: { 1: upcastMvObjectChangedV1 },
  },
  [EXPORT_COMMAND]: { current: 1, schemas: { 1: exportCommandV1Schema }, upcasters: {} },
  [EXPORT_OUTCOME]: { current: 1, schemas: { 1: exportOutcomeV1Schema }, upcasters: {} },
  [RUN_EVENT]: { current: 1, schemas: { 1: runEventV1Schema }, upcasters: {} },
  [PASSWORD_COMMAND]: { current: 1, schemas: { 1: passwordCommandV1Schema }, upcasters: {} },
  [PASSWORD_OUTCOME]: { current: 1, schemas: { 1: passwordOutcomeV1Schema }, upcasters: {} },
};

export function currentVersion(type: MessageType): number {
  return CONTRACTS[type].current;
}

function isKnownType(type: string): type is MessageType {
  return Object.prototype.hasOwnProperty.call(CONTRACTS, type);
}

function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
}

/**
 * Decodes raw bytes or text into a validated envelope at the current schema version, upcasting
 * older versions. Throws ContractViolation naming exactly what is wrong.
 */
export function decodeMessage(raw: Buffer | string | null | undefined, expected?: readonly MessageType[]): Message {
  if (raw === null || raw === undefined || raw.length === 0) throw new ContractViolation('empty message value');
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch {
    // Never echo the parser's message: it quotes the input, which may carry secrets.
    throw new ContractViolation('message is not JSON');
  }
  const header = envelopeHeaderSchema.safeParse(json);
  if (!header.success) {
    const issues = issuesOf(header.error);
    throw new ContractViolation(`invalid envelope: ${issues.join('; ')}`, { issues });
  }
  const { type, schemaVersion } = header.data;
  if (!isKnownType(type)) throw new ContractViolation(`unknown message type '${type}'`, { type, schemaVersion });
  if (expected && !expected.includes(type)) {
    throw new ContractViolation(`unexpected message type '${type}' here (expected ${expected.join(', ')})`, { type, schemaVersion });
  }
  const contract = CONTRACTS[type];
  const schema = contract.schemas[schemaVersion];
  if (!schema) {
    throw new ContractViolation(`unsupported schemaVersion ${schemaVersion} of '${type}' (current ${contract.current})`, {
      type,
      schemaVersion,
    });
  }
  const parsed = schema.safeParse(header.data.data);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    throw new ContractViolation(`invalid '${type}' v${schemaVersion} data: ${issues.join('; ')}`, { type, schemaVersion, issues });
  }
  let data: unknown = parsed.data;
  for (let v = schemaVersion; v < contract.current; v++) {
    const up = contract.upcasters[v];
    if (!up) throw new ContractViolation(`no upcaster from v${v} of '${type}'`, { type, schemaVersion });
    data = up(data);
  }
  return { ...header.data, type, schemaVersion: contract.current, data } as Message;
}

/** Validates an outgoing message against its current schema before it leaves the process. */
export function encodeMessage(message: Message): Buffer {
  const contract = CONTRACTS[message.type];
  const schema = contract.schemas[message.schemaVersion];
  if (!schema || message.schemaVersion !== contract.current) {
    throw new ContractViolation(`refusing to emit '${message.type}' v${message.schemaVersion}: current is v${contract.current}`);
  }
  const parsed = schema.safeParse(message.data);
  if (!parsed.success) {
    throw new ContractViolation(`refusing to emit invalid '${message.type}': ${issuesOf(parsed.error).join('; ')}`);
  }
  return Buffer.from(JSON.stringify(message));
}

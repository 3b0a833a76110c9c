import { z } from 'zod';

/**
 * One attribute value as it crosses a service boundary. JSON has no bytes, so binary values
 * (SIDs, certificates) travel as `{ b64 }` and references to other objects as `{ ref }`.
 */
export type AttributeValue = string | number | boolean | { readonly b64: string } | { readonly ref: string };

/** Attributes are always multi-valued on the wire; a single-valued attribute has one element. */
export type Attributes = Readonly<Record<string, readonly AttributeValue[]>>;

export const attributeValueSchema: z.ZodType<AttributeValue> = z.union([
  z.string(),
  z.number().finite(),
  z.boolean(),
  z.object({ b64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64') }).strict(),
  z.object({ ref: z.string().min(1) }).strict(),
]);

export const attributesSchema = z.record(z.string().min(1), z.array(attributeValueSchema));

/** Attribute-level change inside an update, MIIS style (`add`, `delete`, `replace`). */
export interface AttributeDelta {
  readonly name: string;
  readonly op: 'add' | 'delete' | 'replace';
  readonly values: readonly AttributeValue[];
}

export const attributeDeltaSchema = z
  .object({ name: z.string().min(1), op: z.enum(['add', 'delete', 'replace']), values: z.array(attributeValueSchema) })
  .strict();

export function binaryValue(bytes: Uint8Array): { b64: string } {
  return { b64: Buffer.from(bytes).toString('base64') };
}

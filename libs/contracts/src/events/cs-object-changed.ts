import { z } from 'zod';
import { attributeDeltaSchema, attributesSchema, type AttributeDelta, type Attributes } from '../attributes';

/**
 * A connector observed a change of one object in its connector space.
 * Kafka key: `${connector}/${anchor}` so every change of one CS object keeps its order.
 */
export const CS_OBJECT_CHANGED = 'cs.object.changed' as const;

export interface CsObjectChangedV1 {
  readonly connector: string;
  readonly partition: string;
  readonly anchor: string;
  readonly objectType: string;
  readonly dn: string;
  readonly previousDn: string | null;
  readonly change: 'add' | 'update' | 'rename' | 'delete';
  /** Full image after the change (empty for a delete). */
  readonly attributes: Attributes;
  /** What changed, attribute by attribute (empty for add and delete). */
  readonly delta: readonly AttributeDelta[];
  /** Per-object version in the connector space; consumers drop anything not newer than what they hold. */
  readonly csVersion: number;
}

export const csObjectChangedV1Schema = z
  .object({
    connector: z.string().min(1),
    partition: z.string().min(1),
    anchor: z.string().min(1),
    objectType: z.string().min(1),
    dn: z.string(),
    previousDn: z.string().nullable(),
    change: z.enum(['add', 'update', 'rename', 'delete']),
    attributes: attributesSchema,
    delta: z.array(attributeDeltaSchema),
    csVersion: z.number().int().positive(),
  })
  .strict();

export function csObjectKey(connector: string, anchor: string): string {
  return `${connector}/${anchor}`;
}

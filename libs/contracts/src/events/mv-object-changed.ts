import { z } from 'zod';
import { attributesSchema, type Attributes } from '../attributes';

/**
 * The metaverse write model changed one MV object. This stream is the source of truth of the read
 * model (retention: infinite). Kafka key: the MV object id.
 */
export const MV_OBJECT_CHANGED = 'mv.object.changed' as const;

export interface MvConnectorLink {
  readonly connector: string;
  readonly anchor: string;
  readonly dn: string;
  readonly state: 'connected' | 'explicitly-connected';
}

/** Where one MV attribute's current values came from (MIIS attribute lineage). */
export interface MvAttributeLineage {
  readonly attribute: string;
  readonly connector: string;
  readonly anchor: string;
  /** Id of the import flow rule that produced the values (`<connector>/<csType>/<mvAttr>` by default). */
  readonly flow: string;
  readonly rulesVersion: string;
  readonly at: string;
}

/** What made the engine change the object: a CS change, a full synchronization, an operator. */
export interface MvChangeCause {
  readonly connector: string;
  readonly anchor: string;
  readonly csVersion: number;
}

export interface MvObjectChangedV1 {
  readonly mvObjectId: string;
  readonly objectType: string;
  readonly version: number;
  readonly change: 'projected' | 'updated' | 'deleted';
  readonly attributes: Attributes;
  readonly connectors: readonly MvConnectorLink[];
  readonly rulesVersion: string;
  readonly cause: MvChangeCause;
}

export interface MvObjectChangedV2 {
  readonly mvObjectId: string;
  readonly objectType: string;
  /** Per-object version: 1 on projection, +1 on every change. */
  readonly version: number;
  readonly change: 'projected' | 'updated' | 'deleted';
  /** Full image after the change. */
  readonly attributes: Attributes;
  readonly connectors: readonly MvConnectorLink[];
  /** Contributor of every attribute in `attributes` (v1 events upcast to an empty list). */
  readonly lineage: readonly MvAttributeLineage[];
  /** Hash of the rules set that produced this change. */
  readonly rulesVersion: string;
  /** The CS change that caused this one. */
  readonly cause: MvChangeCause;
  /** Why, in words a console can show: `join`, `projection`, `import-flow`, `recall`, `full-sync`, `explicit-join`, `deletion-rule`, … */
  readonly reason: string;
}

const linkSchema = z
  .object({
    connector: z.string().min(1),
    anchor: z.string().min(1),
    dn: z.string(),
    state: z.enum(['connected', 'explicitly-connected']),
  })
  .strict();

const causeSchema = z.object({ connector: z.string(), anchor: z.string(), csVersion: z.number().int().positive() }).strict();

const v1Shape = {
  mvObjectId: z.string().uuid(),
  objectType: z.string().min(1),
  version: z.number().int().positive(),
  change: z.enum(['projected', 'updated', 'deleted']),
  attributes: attributesSchema,
  connectors: z.array(linkSchema),
  rulesVersion: z.string().min(1),
  cause: causeSchema,
};

export const mvObjectChangedV1Schema = z.object(v1Shape).strict();

export const mvAttributeLineageSchema = z
  .object({
    attribute: z.string().min(1),
    connector: z.string().min(1),
    anchor: z.string().min(1),
    flow: z.string().min(1),
    rulesVersion: z.string().min(1),
    at: z.string().datetime({ offset: true }),
  })
  .strict();

export const mvObjectChangedV2Schema = z
  .object({ ...v1Shape, lineage: z.array(mvAttributeLineageSchema), reason: z.string().min(1) })
  .strict();

export function upcastMvObjectChangedV1(data: unknown): MvObjectChangedV2 {
  const v1 = data as MvObjectChangedV1;
  return { ...v1, lineage: [], reason: v1.change === 'projected' ? 'projection' : v1.change === 'deleted' ? 'deletion-rule' : 'import-flow' };
}

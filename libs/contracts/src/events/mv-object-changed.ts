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

export interface MvObjectChangedV1 {
  readonly mvObjectId: string;
  readonly objectType: string;
  /** Per-object version: 1 on projection, +1 on every change. */
  readonly version: number;
  readonly change: 'projected' | 'updated' | 'deleted';
  /** Full image after the change. */
  readonly attributes: Attributes;
  readonly connectors: readonly MvConnectorLink[];
  /** Hash of the rules set that produced this change. */
  readonly rulesVersion: string;
  /** The CS change that caused this one. */
  readonly cause: { readonly connector: string; readonly anchor: string; readonly csVersion: number };
}

export const mvObjectChangedV1Schema = z
  .object({
    mvObjectId: z.string().uuid(),
    objectType: z.string().min(1),
    version: z.number().int().positive(),
    change: z.enum(['projected', 'updated', 'deleted']),
    attributes: attributesSchema,
    connectors: z.array(
      z
        .object({
          connector: z.string().min(1),
          anchor: z.string().min(1),
          dn: z.string(),
          state: z.enum(['connected', 'explicitly-connected']),
        })
        .strict(),
    ),
    rulesVersion: z.string().min(1),
    cause: z.object({ connector: z.string(), anchor: z.string(), csVersion: z.number().int().positive() }).strict(),
  })
  .strict();

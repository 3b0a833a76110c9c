import { z } from 'zod';
import { attributeDeltaSchema, attributesSchema, type AttributeDelta, type Attributes } from '../attributes';

/**
 * The join engine asks a connector to change its connected directory (provisioning, export
 * attribute flow, deprovisioning). Kafka key: `${connector}/${anchor ?? dn}`, so the commands of one
 * object keep their order. `exportId` is the idempotency key: a redelivered command is recognised
 * and not applied twice.
 */
export const EXPORT_COMMAND = 'export.command' as const;

export interface ExportCommandV1 {
  readonly exportId: string;
  readonly connector: string;
  readonly partition: string;
  /** Null for an add: the directory assigns the anchor. */
  readonly anchor: string | null;
  readonly dn: string;
  readonly objectType: string;
  readonly op: 'add' | 'update' | 'rename' | 'delete';
  /** Initial values of an add. */
  readonly attributes: Attributes;
  /** Attribute-level changes of an update. */
  readonly changes: readonly AttributeDelta[];
  /** Target DN of a rename. */
  readonly newDn: string | null;
  /** The metaverse object and version this export comes from (lineage). */
  readonly mvObjectId: string | null;
  readonly mvVersion: number | null;
}

export const exportCommandV1Schema = z
  .object({
    exportId: z.string().uuid(),
    connector: z.string().min(1),
    partition: z.string().min(1),
    anchor: z.string().min(1).nullable(),
    dn: z.string().min(1),
    objectType: z.string().min(1),
    op: z.enum(['add', 'update', 'rename', 'delete']),
    attributes: attributesSchema,
    changes: z.array(attributeDeltaSchema),
    newDn: z.string().min(1).nullable(),
    mvObjectId: z.string().uuid().nullable(),
    mvVersion: z.number().int().positive().nullable(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.op !== 'add' && c.anchor === null) ctx.addIssue({ code: 'custom', path: ['anchor'], message: `required for ${c.op}` });
    if (c.op === 'rename' && c.newDn === null) ctx.addIssue({ code: 'custom', path: ['newDn'], message: 'required for rename' });
    if (c.op === 'update' && c.changes.length === 0) ctx.addIssue({ code: 'custom', path: ['changes'], message: 'an update needs at least one change' });
  });

/** What became of one export command, confirmed by reading the object back. */
export const EXPORT_OUTCOME = 'export.outcome' as const;

export interface ExportOutcomeV1 {
  readonly exportId: string;
  readonly connector: string;
  readonly partition: string;
  readonly op: ExportCommandV1['op'];
  /** The object's anchor after the export (new for an add); null if it never existed. */
  readonly anchor: string | null;
  readonly dn: string;
  /**
   * `applied`: the directory holds what was exported. `not-reimported`: it accepted the change but
   * did not keep every value (MIIS `exported-change-not-reimported`). `failed`: refused; kept as a
   * pending export and retried if `retriable`.
   */
  readonly status: 'applied' | 'not-reimported' | 'failed';
  readonly error: { readonly type: string; readonly message: string; readonly retriable: boolean } | null;
  /** Attributes whose exported values the read-back did not show. */
  readonly notReimported: readonly string[];
  readonly attempt: number;
}

export const exportOutcomeV1Schema = z
  .object({
    exportId: z.string().uuid(),
    connector: z.string().min(1),
    partition: z.string().min(1),
    op: z.enum(['add', 'update', 'rename', 'delete']),
    anchor: z.string().min(1).nullable(),
    dn: z.string().min(1),
    status: z.enum(['applied', 'not-reimported', 'failed']),
    error: z.object({ type: z.string().min(1), message: z.string(), retriable: z.boolean() }).strict().nullable(),
    notReimported: z.array(z.string()),
    attempt: z.number().int().positive(),
  })
  .strict();

import { z } from 'zod';

/**
 * The rules file model (YAML, validated at load). One file describes the whole synchronization:
 * the metaverse (object types, indexed attributes, precedence, deletion rules), per connector and
 * CS object type the filter, join, projection and attribute flows, and provisioning rules.
 * See docs/join-engine.md for the reference with examples.
 */

const name = z.string().min(1);
const scalar = z.union([z.string(), z.number().finite(), z.boolean()]);

/** A pseudo attribute of a CS object: `$dn`, `$partition`, `$anchor`, `$objectType`; else an attribute name. */
const source = z.union([name, z.array(name).min(1)]);

export const conditionSchema = z
  .object({
    attribute: name,
    /** equals: some value equals `value` (strings compared case-insensitively); present/absent. */
    op: z.enum(['equals', 'notEquals', 'present', 'absent', 'startsWith']).default('equals'),
    value: scalar.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.op === 'equals' || c.op === 'notEquals' || c.op === 'startsWith') && c.value === undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `required for op '${c.op}'` });
    }
  });
export type Condition = z.output<typeof conditionSchema>;

const transformRef = { transform: name.optional(), args: z.record(z.string(), scalar).optional() };

export const joinConditionSchema = z
  .object({ cs: source, mv: name, ...transformRef })
  .strict();
export type JoinCondition = z.output<typeof joinConditionSchema>;

export const mappingGroupSchema = z
  .object({
    /** MV object type searched; any type when absent. */
    mvType: name.optional(),
    /** AND-ed conditions: the CS value (through an optional transform) equals the MV attribute. */
    match: z.array(joinConditionSchema).min(1),
  })
  .strict();
export type MappingGroup = z.output<typeof mappingGroupSchema>;

export const importFlowSchema = z
  .object({
    mv: name,
    /** Id recorded in lineage; default `<connector>/<csType>/<mv>`. */
    id: name.optional(),
    from: source.optional(),
    constant: z.union([scalar, z.array(scalar)]).optional(),
    /** Value of the N-th DN component (1 = leftmost RDN) of the CS object's DN. */
    dnComponent: z.number().int().positive().optional(),
    ...transformRef,
  })
  .strict()
  .superRefine((f, ctx) => {
    const kinds = [f.from !== undefined, f.constant !== undefined, f.dnComponent !== undefined].filter(Boolean).length;
    if (kinds !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'an import flow needs exactly one of from, constant, dnComponent' });
  });
export type ImportFlow = z.output<typeof importFlowSchema>;

export const exportFlowSchema = z
  .object({
    cs: name,
    id: name.optional(),
    from: source.optional(),
    constant: z.union([scalar, z.array(scalar)]).optional(),
    /** When the MV source is empty, clear the CS attribute instead of leaving it alone. */
    allowNull: z.boolean().default(false),
    /** Export even when the MV value came from this same connector (off: loop prevention). */
    loopback: z.boolean().default(false),
    ...transformRef,
  })
  .strict()
  .superRefine((f, ctx) => {
    if ((f.from === undefined) === (f.constant === undefined)) ctx.addIssue({ code: 'custom', path: [], message: 'an export flow needs exactly one of from, constant' });
  });
export type ExportFlow = z.output<typeof exportFlowSchema>;

export const objectTypeRulesSchema = z
  .object({
    /** Connector filter: a CS object matching ANY condition is a filtered disconnector. */
    filter: z.array(conditionSchema).default([]),
    join: z.array(mappingGroupSchema).default([]),
    /** MV object type a disconnector projects to when no mapping group joined it. */
    project: name.optional(),
    importFlows: z.array(importFlowSchema).default([]),
    exportFlows: z.array(exportFlowSchema).default([]),
  })
  .strict();
export type ObjectTypeRules = z.output<typeof objectTypeRulesSchema>;

export const deprovisionActions = ['disconnector', 'explicit-disconnector', 'delete'] as const;
export type DeprovisionAction = (typeof deprovisionActions)[number];

export const connectorRulesSchema = z
  .object({
    /** What happens to this connector's objects when their MV object is deleted. */
    deprovision: z.enum(deprovisionActions).default('disconnector'),
    /** Remove the MV values this connector contributed when one of its objects disconnects. */
    recall: z.boolean().default(true),
    /** Delete threshold for the exports of one run: absolute count and/or percent of the connector's objects. */
    deleteThreshold: z
      .object({
        count: z.number().int().positive().optional(),
        percent: z.number().positive().max(100).optional(),
        /** Continuous synchronization: deletes of the last `windowMinutes` count as one run. */
        windowMinutes: z.number().positive().default(60),
      })
      .strict()
      .optional(),
    objectTypes: z.record(name, objectTypeRulesSchema).default({}),
  })
  .strict();
export type ConnectorRules = z.output<typeof connectorRulesSchema>;

export const mvAttributeSchema = z
  .object({
    indexed: z.boolean().default(false),
    precedence: z.enum(['ranked', 'equal']).default('ranked'),
    /** Ranked precedence: connectors from highest to lowest; default the order of `connectors`. */
    order: z.array(name).optional(),
  })
  .strict();
export type MvAttributeRules = z.output<typeof mvAttributeSchema>;

export const deletionRuleSchema = z.union([
  z.literal('last-connector'),
  z.object({ authoritative: z.array(name).min(1) }).strict(),
]);
export type DeletionRule = z.output<typeof deletionRuleSchema>;

export const mvTypeSchema = z
  .object({
    deletion: deletionRuleSchema.default('last-connector'),
    attributes: z.record(name, mvAttributeSchema).default({}),
  })
  .strict();
export type MvTypeRules = z.output<typeof mvTypeSchema>;

export const provisioningSchema = z
  .object({
    name: name,
    mvType: name,
    /** All must hold on the MV object; `connectedTo` requires a connector of that connector. */
    when: z.array(z.union([conditionSchema, z.object({ connectedTo: name }).strict()])).default([]),
    connector: name,
    objectType: name,
    partition: name,
    /** DN template: `{attr}` is the MV attribute's first value. */
    dn: name,
    /** Initial values (templates or constants), next to the connector's export flows. */
    attributes: z.record(name, z.union([scalar, z.array(scalar)])).default({}),
  })
  .strict();
export type ProvisioningRule = z.output<typeof provisioningSchema>;

export const rulesFileSchema = z
  .object({
    /** Free-form label; the version that counts is the hash of the canonical form. */
    name: z.string().optional(),
    metaverse: z.record(name, mvTypeSchema),
    connectors: z.record(name, connectorRulesSchema),
    provisioning: z.array(provisioningSchema).default([]),
  })
  .strict();
export type RulesFile = z.output<typeof rulesFileSchema>;

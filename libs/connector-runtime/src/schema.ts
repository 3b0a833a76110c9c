import { quoteIdent } from '@metaweave/messaging';

/**
 * DDL of a connector space, for the connector services' migrations: the last imported image of
 * every object, the watermark per partition, run history with MIIS counters, per-object errors
 * that keep their first-occurred time and retry count across runs, and the state of every export
 * command (the idempotency record; `failed` rows are the pending exports the Export step retries).
 */
export function connectorSpaceSql(schema: string): string[] {
  const s = quoteIdent(schema);
  return [
    `CREATE TABLE ${s}.cs_object (
       connector text NOT NULL,
       anchor text NOT NULL,
       partition text NOT NULL,
       dn text NOT NULL,
       object_type text NOT NULL,
       attributes jsonb NOT NULL,
       version integer NOT NULL,
       deleted boolean NOT NULL DEFAULT false,
       updated_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (connector, anchor))`,
    `CREATE INDEX cs_object_partition_idx ON ${s}.cs_object (connector, partition) WHERE NOT deleted`,
    `CREATE INDEX cs_object_dn_idx ON ${s}.cs_object (connector, lower(dn))`,
    `CREATE TABLE ${s}.watermark (
       connector text NOT NULL,
       partition text NOT NULL,
       strategy text NOT NULL,
       value text NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (connector, partition))`,
    `CREATE TABLE ${s}.run (
       id uuid PRIMARY KEY,
       connector text NOT NULL,
       partition text NOT NULL,
       step text NOT NULL,
       status text NOT NULL,
       started_at timestamptz NOT NULL DEFAULT now(),
       finished_at timestamptz,
       counters jsonb,
       deletes_withheld integer NOT NULL DEFAULT 0,
       errors jsonb NOT NULL DEFAULT '[]',
       message text)`,
    `CREATE INDEX run_started_idx ON ${s}.run (connector, partition, started_at DESC)`,
    `CREATE TABLE ${s}.object_error (
       connector text NOT NULL,
       object text NOT NULL,
       type text NOT NULL,
       message text NOT NULL,
       first_occurred timestamptz NOT NULL DEFAULT now(),
       last_occurred timestamptz NOT NULL DEFAULT now(),
       retry_count integer NOT NULL DEFAULT 0,
       PRIMARY KEY (connector, object))`,
    `CREATE TABLE ${s}.export_state (
       export_id uuid PRIMARY KEY,
       connector text NOT NULL,
       partition text NOT NULL,
       anchor text,
       dn text NOT NULL,
       op text NOT NULL,
       command jsonb NOT NULL,
       status text NOT NULL,
       error jsonb,
       not_reimported jsonb NOT NULL DEFAULT '[]',
       attempts integer NOT NULL DEFAULT 0,
       first_occurred timestamptz NOT NULL DEFAULT now(),
       last_attempt timestamptz)`,
    `CREATE INDEX export_state_pending_idx ON ${s}.export_state (connector, partition, first_occurred) WHERE status = 'failed'`,
  ];
}

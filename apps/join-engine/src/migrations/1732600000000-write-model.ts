import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The metaverse write model of the rules engine (docs/adr/0010-join-engine-write-model.md):
 * - mv_object: current state per MV object (contributions by connector, derived attributes,
 *   connectors, pending provisioning) with its version; mv_event: the append-only event store,
 *   one row per (object, version) — a second writer of the same version fails on the key.
 * - cs_link: the engine's copy of every CS object (last image), its connector state and MV link.
 * - mv_index / cs_join_key: the join index over indexed MV attributes, and the join keys of
 *   disconnectors (re-evaluated when an MV object gains a matching value).
 * - pending_provision, sync_error (per-object errors with first occurrence and retry count),
 *   held_delete (deletes beyond the threshold, released on approval).
 */
export class WriteModel1732600000000 implements MigrationInterface {
  name = 'WriteModel1732600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mv_object ADD COLUMN contributions jsonb NOT NULL DEFAULT '{}'::jsonb`);
    await q.query(`ALTER TABLE mv_object ADD COLUMN provisioning jsonb NOT NULL DEFAULT '[]'::jsonb`);
    await q.query(`ALTER TABLE cs_link DROP CONSTRAINT IF EXISTS cs_link_mv_object_id_fkey`);
    await q.query(`ALTER TABLE cs_link ALTER COLUMN mv_object_id DROP NOT NULL`);
    await q.query(`ALTER TABLE cs_link ADD COLUMN state text NOT NULL DEFAULT 'normal'
      CHECK (state IN ('normal', 'explicit', 'disconnector', 'explicit-disconnector', 'filtered'))`);
    await q.query(`ALTER TABLE cs_link ADD COLUMN partition text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE cs_link ADD COLUMN object_type text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE cs_link ADD COLUMN dn text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE cs_link ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}'::jsonb`);
    await q.query(`ALTER TABLE cs_link ADD COLUMN pending_export jsonb NOT NULL DEFAULT '{}'::jsonb`);
    await q.query(`CREATE INDEX cs_link_mv ON cs_link (mv_object_id)`);
    await q.query(`
      CREATE TABLE mv_event (
        mv_object_id uuid NOT NULL,
        version integer NOT NULL,
        event_id uuid NOT NULL,
        data jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (mv_object_id, version)
      )`);
    await q.query(`CREATE TABLE mv_index (mv_object_id uuid NOT NULL, mv_type text NOT NULL, attribute text NOT NULL, value_key text NOT NULL)`);
    await q.query(`CREATE INDEX mv_index_lookup ON mv_index (attribute, value_key)`);
    await q.query(`CREATE INDEX mv_index_object ON mv_index (mv_object_id)`);
    await q.query(`CREATE TABLE cs_join_key (connector text NOT NULL, anchor text NOT NULL, attribute text NOT NULL, value_key text NOT NULL)`);
    await q.query(`CREATE INDEX cs_join_key_lookup ON cs_join_key (attribute, value_key)`);
    await q.query(`CREATE INDEX cs_join_key_object ON cs_join_key (connector, anchor)`);
    await q.query(`
      CREATE TABLE pending_provision (
        connector text NOT NULL, dn_lower text NOT NULL, mv_object_id uuid NOT NULL, export_id uuid NOT NULL,
        PRIMARY KEY (connector, dn_lower)
      )`);
    await q.query(`
      CREATE TABLE sync_error (
        connector text NOT NULL, anchor text NOT NULL, dn text NOT NULL, type text NOT NULL, message text NOT NULL,
        first_occurred timestamptz NOT NULL, last_occurred timestamptz NOT NULL, retry_count integer NOT NULL DEFAULT 0,
        PRIMARY KEY (connector, anchor)
      )`);
    await q.query(`
      CREATE TABLE held_delete (
        export_id uuid PRIMARY KEY, run_id uuid NOT NULL, connector text NOT NULL, command jsonb NOT NULL,
        held_at timestamptz NOT NULL DEFAULT now(), approved_at timestamptz
      )`);
    await q.query(`CREATE INDEX held_delete_run ON held_delete (run_id)`);
    // References between MV objects (group members): whose export flow to redo when an object's connectors change.
    await q.query(`CREATE TABLE mv_ref (from_id uuid NOT NULL, to_id uuid NOT NULL, PRIMARY KEY (from_id, to_id))`);
    await q.query(`CREATE INDEX mv_ref_to ON mv_ref (to_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['mv_ref', 'held_delete', 'sync_error', 'pending_provision', 'cs_join_key', 'mv_index', 'mv_event']) await q.query(`DROP TABLE ${t}`);
    await q.query(`DELETE FROM cs_link WHERE mv_object_id IS NULL`);
    await q.query(`DROP INDEX cs_link_mv`);
    for (const c of ['pending_export', 'attributes', 'dn', 'object_type', 'partition', 'state']) await q.query(`ALTER TABLE cs_link DROP COLUMN ${c}`);
    await q.query(`ALTER TABLE cs_link ALTER COLUMN mv_object_id SET NOT NULL`);
    await q.query(`ALTER TABLE mv_object DROP COLUMN provisioning`);
    await q.query(`ALTER TABLE mv_object DROP COLUMN contributions`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The full read model (issue 6): lineage and reason on MV objects, their connectors as rows
 * (lookup by connector + anchor), run history with per-object errors, export and password
 * outcomes, and which schema holds the live read model (replay switches it).
 */
export class ReadModel1764000000000 implements MigrationInterface {
  name = 'ReadModel1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mv_object ADD COLUMN lineage jsonb NOT NULL DEFAULT '[]', ADD COLUMN reason text NOT NULL DEFAULT ''`);
    await q.query(`CREATE INDEX mv_object_updated_idx ON mv_object (updated_at)`);
    await q.query(`
      CREATE TABLE mv_connector (
        mv_object_id uuid NOT NULL,
        connector text NOT NULL,
        anchor text NOT NULL,
        dn text NOT NULL,
        state text NOT NULL,
        PRIMARY KEY (mv_object_id, connector, anchor)
      )`);
    await q.query(`CREATE INDEX mv_connector_anchor_idx ON mv_connector (connector, anchor)`);
    await q.query(`
      CREATE TABLE run (
        run_id uuid PRIMARY KEY,
        connector text NOT NULL,
        partition text NOT NULL,
        step text NOT NULL,
        status text NOT NULL,
        sequence integer NOT NULL,
        started_at timestamptz NOT NULL,
        ended_at timestamptz,
        counters jsonb NOT NULL,
        error_count integer NOT NULL,
        message text,
        source text NOT NULL
      )`);
    await q.query(`CREATE INDEX run_started_idx ON run (started_at DESC)`);
    await q.query(`CREATE INDEX run_connector_idx ON run (connector, started_at DESC)`);
    await q.query(`CREATE INDEX run_held_idx ON run (started_at) WHERE status = 'held'`);
    await q.query(`
      CREATE TABLE run_error (
        run_id uuid NOT NULL,
        seq integer NOT NULL,
        anchor text,
        dn text,
        type text NOT NULL,
        message text NOT NULL,
        first_occurred timestamptz NOT NULL,
        retry_count integer NOT NULL,
        PRIMARY KEY (run_id, seq)
      )`);
    await q.query(`
      CREATE TABLE export_outcome (
        export_id uuid PRIMARY KEY,
        connector text NOT NULL,
        partition text NOT NULL,
        op text NOT NULL,
        anchor text,
        dn text NOT NULL,
        status text NOT NULL,
        error jsonb,
        not_reimported jsonb NOT NULL,
        attempt integer NOT NULL,
        occurred_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX export_outcome_open_idx ON export_outcome (connector, occurred_at) WHERE status <> 'applied'`);
    await q.query(`
      CREATE TABLE password_outcome (
        command_id uuid PRIMARY KEY,
        operation_id uuid NOT NULL,
        connector text NOT NULL,
        domain text NOT NULL,
        anchor text NOT NULL,
        account_name text NOT NULL,
        op text NOT NULL,
        result text NOT NULL,
        message text,
        completed_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX password_outcome_completed_idx ON password_outcome (completed_at DESC)`);
    await q.query(`CREATE TABLE projection_state (id boolean PRIMARY KEY DEFAULT true CHECK (id), active_schema text NOT NULL, switched_at timestamptz NOT NULL DEFAULT now())`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['projection_state', 'password_outcome', 'export_outcome', 'run_error', 'run', 'mv_connector']) await q.query(`DROP TABLE ${t}`);
    await q.query(`DROP INDEX mv_object_updated_idx`);
    await q.query(`ALTER TABLE mv_object DROP COLUMN lineage, DROP COLUMN reason`);
  }
}

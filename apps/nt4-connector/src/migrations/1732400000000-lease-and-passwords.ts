import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The per-domain lease log (every tenure of a domain's operation lease) and the password commands
 * seen (the durable replay guard and the audit of results; never a secret).
 */
export class LeaseAndPasswords1732400000000 implements MigrationInterface {
  name = 'LeaseAndPasswords1732400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE lease_log (
       id bigserial PRIMARY KEY,
       lease_key text NOT NULL,
       purpose text NOT NULL,
       holder text NOT NULL,
       backend_pid integer NOT NULL,
       requested_at timestamptz NOT NULL,
       acquired_at timestamptz NOT NULL,
       released_at timestamptz)`);
    await q.query(`CREATE INDEX lease_log_key_idx ON lease_log (lease_key, acquired_at DESC)`);
    await q.query(`CREATE TABLE password_command (
       command_id uuid PRIMARY KEY,
       operation_id uuid NOT NULL,
       connector text NOT NULL,
       domain text NOT NULL,
       anchor text NOT NULL,
       account_name text NOT NULL,
       op text NOT NULL,
       status text NOT NULL,
       result text,
       message text,
       expires_at timestamptz NOT NULL,
       received_at timestamptz NOT NULL DEFAULT now(),
       completed_at timestamptz)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE password_command`);
    await q.query(`DROP TABLE lease_log`);
  }
}

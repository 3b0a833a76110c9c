import { outboxTableSql } from '@metaweave/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The routing view (which NT4 accounts each MV object has, from MV events, with the consumed
 * offsets), password operations and their targets (the audit record: who, which person, which
 * accounts, when, result — never a secret), and the outbox the sealed commands leave through.
 */
export class Init1732330000000 implements MigrationInterface {
  name = 'Init1732330000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE route (
        mv_object_id uuid PRIMARY KEY,
        object_type text NOT NULL,
        version integer NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE route_account (
        mv_object_id uuid NOT NULL REFERENCES route (mv_object_id) ON DELETE CASCADE,
        connector text NOT NULL,
        anchor text NOT NULL,
        domain text NOT NULL,
        account_name text NOT NULL,
        PRIMARY KEY (mv_object_id, connector, anchor)
      )`);
    await q.query(`CREATE INDEX route_account_account_idx ON route_account (connector, anchor)`);
    await q.query(`
      CREATE TABLE consumer_offset (
        topic text NOT NULL,
        kafka_partition integer NOT NULL,
        next_offset bigint NOT NULL,
        PRIMARY KEY (topic, kafka_partition)
      )`);
    await q.query(`
      CREATE TABLE password_operation (
        id uuid PRIMARY KEY,
        op text NOT NULL CHECK (op IN ('set', 'change')),
        mv_object_id uuid,
        requested_by text NOT NULL,
        requested_at timestamptz NOT NULL,
        force_change boolean NOT NULL,
        unlock boolean NOT NULL,
        idempotency_key text,
        request_fingerprint text
      )`);
    await q.query(`CREATE INDEX password_operation_requested_idx ON password_operation (requested_at)`);
    await q.query(`CREATE INDEX password_operation_person_idx ON password_operation (mv_object_id, requested_at)`);
    await q.query(`CREATE UNIQUE INDEX password_operation_idempotency_idx ON password_operation (requested_by, idempotency_key) WHERE idempotency_key IS NOT NULL`);
    await q.query(`
      CREATE TABLE password_target (
        command_id uuid PRIMARY KEY,
        operation_id uuid NOT NULL REFERENCES password_operation (id),
        connector text NOT NULL,
        domain text NOT NULL,
        anchor text NOT NULL,
        account_name text NOT NULL,
        expires_at timestamptz NOT NULL,
        result text,
        message text,
        completed_at timestamptz
      )`);
    await q.query(`CREATE INDEX password_target_operation_idx ON password_target (operation_id)`);
    await q.query(outboxTableSql(q.connection.driver.schema ?? 'public'));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['outbox', 'password_target', 'password_operation', 'consumer_offset', 'route_account', 'route']) await q.query(`DROP TABLE ${table}`);
  }
}

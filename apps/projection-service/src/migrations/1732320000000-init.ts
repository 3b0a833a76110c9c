import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The metaverse read model, its event history (lineage of versions) and the consumer position. */
export class Init1732320000000 implements MigrationInterface {
  name = 'Init1732320000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mv_object (
        id uuid PRIMARY KEY,
        object_type text NOT NULL,
        version integer NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        attributes jsonb NOT NULL,
        connectors jsonb NOT NULL,
        rules_version text NOT NULL,
        last_event_id uuid NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX mv_object_type_idx ON mv_object (object_type) WHERE NOT deleted`);
    await q.query(`CREATE INDEX mv_object_attributes_idx ON mv_object USING gin (attributes jsonb_path_ops)`);
    await q.query(`
      CREATE TABLE mv_object_event (
        event_id uuid PRIMARY KEY,
        mv_object_id uuid NOT NULL,
        version integer NOT NULL,
        change text NOT NULL,
        correlation_id text NOT NULL,
        occurred_at timestamptz NOT NULL,
        kafka_partition integer NOT NULL,
        kafka_offset bigint NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX mv_object_event_object_idx ON mv_object_event (mv_object_id, version)`);
    await q.query(`
      CREATE TABLE consumer_offset (
        topic text NOT NULL,
        kafka_partition integer NOT NULL,
        next_offset bigint NOT NULL,
        PRIMARY KEY (topic, kafka_partition)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE consumer_offset`);
    await q.query(`DROP TABLE mv_object_event`);
    await q.query(`DROP TABLE mv_object`);
  }
}

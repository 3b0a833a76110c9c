import { ident, type Sql } from './store';

/**
 * Which PostgreSQL schema holds the live read model. It starts as the service's own schema
 * (MW_DATABASE_SCHEMA); `mw projection rebuild` builds a new one from the MV event stream and
 * switches to it (projection_state in the service's own schema records the switch).
 */
export class ActiveSchema {
  constructor(
    readonly base: string,
    private active: string,
  ) {}

  get current(): string {
    return this.active;
  }

  /** Qualified name of a read-model table in the live schema. */
  table(name: string): string {
    return `${ident(this.active)}.${name}`;
  }

  static async load(db: Sql, base: string): Promise<ActiveSchema> {
    const rows: { active_schema: string }[] = await db.query(`SELECT active_schema FROM ${ident(base)}.projection_state`);
    return new ActiveSchema(base, rows[0]?.active_schema ?? base);
  }

  /** Rebuilt schemas that are not live: left by a rebuild interrupted before or after its switch. */
  async leftovers(db: Sql): Promise<string[]> {
    const rows: { nspname: string }[] = await db.query(`SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1) AND nspname <> $2`, [`${this.base}_rb_`, this.active]);
    return rows.map((r) => r.nspname);
  }

  async switchTo(db: Sql, schema: string): Promise<void> {
    await db.query(
      `INSERT INTO ${ident(this.base)}.projection_state (id, active_schema, switched_at) VALUES (true, $1, now())
       ON CONFLICT (id) DO UPDATE SET active_schema = EXCLUDED.active_schema, switched_at = EXCLUDED.switched_at`,
      [schema],
    );
    this.active = schema;
  }
}

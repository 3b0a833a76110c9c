import { outboxChannel, outboxLockKey, outboxTableSql, quoteIdent } from './outbox';

describe('outboxTableSql', () => {
  it('creates the outbox table with the agreed columns, quoted names', () => {
    const sql = outboxTableSql('join_engine');
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS "join_engine"."outbox"');
    for (const col of [
      'id bigserial PRIMARY KEY',
      'topic text NOT NULL',
      'key text NOT NULL',
      'value bytea NOT NULL',
      "headers jsonb NOT NULL DEFAULT '{}'",
      'created_at timestamptz NOT NULL DEFAULT now()',
    ]) {
      expect(sql).toContain(col);
    }
    expect(outboxTableSql('s', 'relay_out')).toContain('"s"."relay_out"');
  });

  it('quotes identifiers safely', () => {
    expect(quoteIdent('we"ird')).toBe('"we""ird"');
    expect(() => quoteIdent('')).toThrow(/empty SQL identifier/);
  });
});

describe('outbox lock key and channel', () => {
  it('are stable, per table, and valid for PostgreSQL', () => {
    const key = outboxLockKey('join_engine');
    expect(key).toBe(outboxLockKey('join_engine', 'outbox'));
    expect(key).not.toBe(outboxLockKey('join_engine', 'other'));
    expect(key).not.toBe(outboxLockKey('projection_service'));
    const n = BigInt(key);
    expect(n >= -(2n ** 63n) && n < 2n ** 63n).toBe(true);
    // schema/table boundaries matter: ("a", "bc") is not ("ab", "c")
    expect(outboxLockKey('a', 'bc')).not.toBe(outboxLockKey('ab', 'c'));
    const channel = outboxChannel('join_engine');
    expect(channel).toMatch(/^mw_outbox_[0-9a-f]{16}$/);
    expect(channel.length).toBeLessThan(64);
  });
});

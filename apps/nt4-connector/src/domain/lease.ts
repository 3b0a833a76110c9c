import { hostname } from 'node:os';
import { RunInProgress, type PartitionLease } from '@metaweave/connector-runtime';
import { quoteIdent, type Logger } from '@metaweave/messaging';
import type { DataSource, QueryRunner } from 'typeorm';

export interface DomainLeaseOptions {
  readonly db: DataSource;
  readonly schema: string;
  /** The connector name: the lease key is `connector/DOMAIN`, the run driver's partition key. */
  readonly connector: string;
  readonly logger: Logger;
  /** Names this process in the lease log (default host:pid). */
  readonly holder?: string;
}

/** One entry of the lease log: who held a domain, for what, from when to when. */
export interface LeaseLogEntry {
  readonly id: string;
  readonly purpose: string;
  readonly holder: string;
  readonly requestedAt: string;
  readonly acquiredAt: string;
  readonly releasedAt: string | null;
  readonly waitedMs: number;
}

export interface LeaseStatus {
  readonly key: string;
  /** The operation holding the domain now, or null. */
  readonly holder: { purpose: string; holder: string; since: string } | null;
  /** Operations queued for the domain (every process), in PostgreSQL's lock queue. */
  readonly waiting: number;
  readonly recent: readonly LeaseLogEntry[];
}

/**
 * The per-domain operation lease (design.md invariant 6): every full import, export and password
 * operation against one NT4 domain holds it, across every replica of the connector. It is a
 * PostgreSQL session advisory lock on `hashtext('connector/DOMAIN')` — the same key as the run
 * driver's partition lock — taken with a blocking `pg_advisory_lock` under `lock_timeout`, so a
 * waiting operation queues in PostgreSQL's lock manager (first come, first served) and does not
 * fail for having waited. A holder that dies loses its session, and with it the lease.
 *
 * Each tenure is written to `lease_log` on the lock's own connection (acquired after the lock is
 * granted, released before it is let go, both by the database clock): the log is the evidence
 * that no two operations ever overlapped on a domain.
 */
export class DomainLease implements PartitionLease {
  private readonly s: string;
  private readonly holder: string;

  constructor(private readonly o: DomainLeaseOptions) {
    this.s = quoteIdent(o.schema);
    this.holder = o.holder ?? `${hostname()}:${process.pid}`;
  }

  key(domain: string): string {
    return `${this.o.connector}/${domain}`;
  }

  /**
   * Waits for the domain's turn (up to `waitMs`; 0 = only if free now) and holds it until the
   * returned function is called. RunInProgress (retriable) if the wait ran out.
   */
  async acquire(domain: string, waitMs: number, purpose: string): Promise<() => Promise<void>> {
    const key = this.key(domain);
    const runner = this.o.db.createQueryRunner();
    await runner.connect();
    let logId: string;
    try {
      const [{ requested }] = await runner.query(`SELECT clock_timestamp() AS requested`);
      if (!(await this.lock(runner, key, waitMs))) throw new RunInProgress(this.o.connector, domain);
      try {
        const [row] = await runner.query(
          `INSERT INTO ${this.s}.lease_log (lease_key, purpose, holder, backend_pid, requested_at, acquired_at)
           VALUES ($1, $2, $3, pg_backend_pid(), $4, clock_timestamp()) RETURNING id`,
          [key, purpose, this.holder, requested],
        );
        logId = String(row.id);
      } catch (error) {
        await runner.query(`SELECT pg_advisory_unlock(hashtext($1))`, [key]).catch(() => undefined);
        throw error;
      }
    } catch (error) {
      await runner.release();
      throw error;
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      try {
        await runner.query(`UPDATE ${this.s}.lease_log SET released_at = clock_timestamp() WHERE id = $1`, [logId]);
      } catch (error) {
        this.o.logger.warn({ key, error: (error as Error).message }, 'lease release not logged');
      }
      try {
        await runner.query(`SELECT pg_advisory_unlock(hashtext($1))`, [key]);
      } finally {
        await runner.release();
      }
    };
  }

  /** Runs `fn` holding the domain's lease. */
  async with<T>(domain: string, waitMs: number, purpose: string, fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(domain, waitMs, purpose);
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  private async lock(runner: QueryRunner, key: string, waitMs: number): Promise<boolean> {
    if (waitMs <= 0) {
      const [{ locked }] = await runner.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [key]);
      return locked as boolean;
    }
    await runner.query(`SELECT set_config('lock_timeout', $1, false)`, [`${Math.ceil(waitMs)}ms`]);
    try {
      await runner.query(`SELECT pg_advisory_lock(hashtext($1))`, [key]);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') return false; // lock_not_available: the wait ran out
      throw error;
    } finally {
      await runner.query(`SELECT set_config('lock_timeout', '0', false)`).catch(() => undefined);
    }
  }

  /** Who holds the domain now, how many wait, and the latest tenures. */
  async status(domain: string, limit = 20): Promise<LeaseStatus> {
    const key = this.key(domain);
    // pg_advisory_lock(bigint) keys show in pg_locks as classid (high 32 bits) and objid (low 32 bits).
    const locks: { pid: number; granted: boolean }[] = await this.o.db.query(
      `SELECT pid, granted FROM pg_locks
       WHERE locktype = 'advisory' AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND classid = ((hashtext($1)::bigint >> 32) & 4294967295)::oid AND objid = (hashtext($1)::bigint & 4294967295)::oid`,
      [key],
    );
    const holderPid = locks.find((l) => l.granted)?.pid;
    const [current] = holderPid
      ? await this.o.db.query(
          `SELECT purpose, holder, acquired_at FROM ${this.s}.lease_log WHERE lease_key = $1 AND backend_pid = $2 AND released_at IS NULL ORDER BY acquired_at DESC LIMIT 1`,
          [key, holderPid],
        )
      : [];
    return {
      key,
      holder: current ? { purpose: current.purpose, holder: current.holder, since: toIso(current.acquired_at) } : holderPid ? { purpose: 'unknown', holder: `pid ${holderPid}`, since: '' } : null,
      waiting: locks.filter((l) => !l.granted).length,
      recent: await this.history(domain, limit),
    };
  }

  /** The lease log of a domain, newest first. */
  async history(domain: string, limit = 100): Promise<LeaseLogEntry[]> {
    const rows = await this.o.db.query(
      `SELECT id, purpose, holder, requested_at, acquired_at, released_at,
              round(extract(epoch FROM acquired_at - requested_at) * 1000)::int AS waited_ms
       FROM ${this.s}.lease_log WHERE lease_key = $1 ORDER BY acquired_at DESC LIMIT $2`,
      [this.key(domain), limit],
    );
    return rows.map((r: Record<string, unknown>) => ({
      id: String(r['id']),
      purpose: r['purpose'] as string,
      holder: r['holder'] as string,
      requestedAt: toIso(r['requested_at']),
      acquiredAt: toIso(r['acquired_at']),
      releasedAt: r['released_at'] ? toIso(r['released_at']) : null,
      waitedMs: r['waited_ms'] as number,
    }));
  }
}

function toIso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

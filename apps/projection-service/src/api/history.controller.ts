import { Controller, Get, Param, Query } from '@nestjs/common';
import { Roles } from '@metaweave/auth';
import { DataSource } from 'typeorm';
import { ActiveSchema } from '../read-model/active-schema';
import { parse, problem } from './problem';
import { exportsQuery, passwordQuery, runsQuery, UUID } from './schemas';

function filters(spec: [string, unknown][]): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const clauses: string[] = [];
  for (const [sql, value] of spec) {
    if (value === undefined) continue;
    params.push(value);
    clauses.push(sql.replace('?', `$${params.length}`));
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

const runDto = (r: Record<string, unknown>) => ({
  runId: r['run_id'],
  connector: r['connector'],
  partition: r['partition'],
  step: r['step'],
  status: r['status'],
  startedAt: r['started_at'],
  endedAt: r['ended_at'],
  counters: r['counters'],
  errorCount: r['error_count'],
  message: r['message'],
});

/** Run history of every connector and the join engine, from their run events. */
@Controller('api/v1')
export class HistoryController {
  constructor(
    private readonly db: DataSource,
    private readonly active: ActiveSchema,
  ) {}

  @Get('runs')
  @Roles('browse')
  async runs(@Query() raw: Record<string, unknown>) {
    const q = parse(runsQuery, raw, 'run filters');
    const { where, params } = filters([
      ['connector = ?', q.connector],
      ['partition = ?', q.partition],
      ['step = ?', q.step],
      ['status = ?', q.status],
    ]);
    params.push(q.limit, q.offset);
    const rows = await this.db.query(
      `SELECT * FROM ${this.active.table('run')} ${where} ORDER BY started_at DESC, run_id LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return { count: rows.length, offset: q.offset, limit: q.limit, runs: rows.map(runDto) };
  }

  @Get('runs/:runId')
  @Roles('browse')
  async run(@Param('runId') runId: string) {
    if (!UUID.safeParse(runId).success) throw problem(400, `'${runId}' is not a run id (a UUID)`);
    const rows = await this.db.query(`SELECT * FROM ${this.active.table('run')} WHERE run_id = $1`, [runId]);
    if (rows.length === 0) throw problem(404, `no run ${runId} in the run history`);
    const errors = await this.db.query(`SELECT * FROM ${this.active.table('run_error')} WHERE run_id = $1 ORDER BY seq`, [runId]);
    return {
      ...runDto(rows[0]),
      errors: errors.map((e: Record<string, unknown>) => ({
        anchor: e['anchor'],
        dn: e['dn'],
        type: e['type'],
        message: e['message'],
        firstOccurred: e['first_occurred'],
        retryCount: e['retry_count'],
      })),
    };
  }

  /** Runs whose deletes beyond the threshold wait for an admin's approval (status `held`). */
  @Get('held-deletes')
  @Roles('browse')
  async held() {
    const rows = await this.db.query(`SELECT * FROM ${this.active.table('run')} WHERE status = 'held' ORDER BY started_at`);
    return {
      count: rows.length,
      heldDeletes: rows.map((r: Record<string, unknown>) => ({ id: r['run_id'], ...runDto(r), deletes: (r['counters'] as Record<string, number>)['heldDeletes'] ?? null })),
    };
  }

  @Get('exports')
  @Roles('browse')
  async exports(@Query() raw: Record<string, unknown>) {
    const q = parse(exportsQuery, raw, 'export filters');
    const { where, params } = filters([
      ['connector = ?', q.connector],
      [q.status === 'pending' ? `status = 'failed' AND (error->>'retriable')::boolean AND ? = 'pending'` : 'status = ?', q.status],
    ]);
    params.push(q.limit, q.offset);
    const rows = await this.db.query(
      `SELECT * FROM ${this.active.table('export_outcome')} ${where} ORDER BY occurred_at DESC, export_id LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return {
      count: rows.length,
      exports: rows.map((r: Record<string, unknown>) => ({
        exportId: r['export_id'],
        connector: r['connector'],
        partition: r['partition'],
        op: r['op'],
        anchor: r['anchor'],
        dn: r['dn'],
        status: r['status'],
        pending: r['status'] === 'failed' && (r['error'] as { retriable?: boolean } | null)?.retriable === true,
        error: r['error'],
        notReimported: r['not_reimported'],
        attempt: r['attempt'],
        at: r['occurred_at'],
      })),
    };
  }

  /** Outcomes of password operations; the read model never holds a password. */
  @Get('password-operations')
  @Roles('browse', 'password-set')
  async passwords(@Query() raw: Record<string, unknown>) {
    const q = parse(passwordQuery, raw, 'password operation filters');
    const { where, params } = filters([
      ['connector = ?', q.connector],
      ['account_name = ?', q.account],
      ['operation_id = ?', q.operationId],
    ]);
    params.push(q.limit, q.offset);
    const rows = await this.db.query(
      `SELECT * FROM ${this.active.table('password_outcome')} ${where} ORDER BY completed_at DESC, command_id LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return {
      count: rows.length,
      operations: rows.map((r: Record<string, unknown>) => ({
        commandId: r['command_id'],
        operationId: r['operation_id'],
        connector: r['connector'],
        domain: r['domain'],
        anchor: r['anchor'],
        accountName: r['account_name'],
        op: r['op'],
        result: r['result'],
        message: r['message'],
        completedAt: r['completed_at'],
      })),
    };
  }
}

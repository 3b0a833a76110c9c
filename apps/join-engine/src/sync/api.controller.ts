import { BadRequestException, Body, Controller, Get, HttpCode, NotFoundException, Param, Post, Query, UnprocessableEntityException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FullSyncResult } from '../engine/engine';
import { Synchronizer } from './synchronizer';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The join engine's operations: rules, preview, full synchronization, held deletes, errors. */
@Controller('api/v1')
export class ApiController {
  /** Full synchronizations started by this process (their run.event history is on mw.run.events). */
  private readonly runs = new Map<string, FullSyncResult | { runId: string; status: 'running' | 'failed'; message?: string }>();

  constructor(private readonly sync: Synchronizer) {}

  private get engine() {
    return this.sync.engine!;
  }

  @Get('rules')
  rules() {
    const r = this.sync.rules.current;
    return { file: r.file, version: r.version, name: r.rules.name ?? null, connectors: Object.keys(r.rules.connectors), metaverse: Object.keys(r.rules.metaverse) };
  }

  /** Re-reads the rules file; an invalid file is refused (422) and the running rules stay. */
  @Post('rules/reload')
  @HttpCode(200)
  reload() {
    const result = this.sync.reload();
    if (!result.ok) throw new UnprocessableEntityException({ message: result.error, runningVersion: result.version });
    return result;
  }

  @Get('preview/:connector/:anchor')
  async preview(@Param('connector') connector: string, @Param('anchor') anchor: string) {
    const result = await this.engine.preview(connector, anchor);
    if (!result.csObject) throw new NotFoundException(`no CS object ${connector}/${anchor} in the join engine`);
    return result;
  }

  /** Starts a full synchronization; it runs in the background: `GET /api/v1/sync/runs/:id` (and run.event) report it. */
  @Post('sync/full')
  @HttpCode(202)
  fullSync(@Body() body: unknown) {
    const { connector } = (body ?? {}) as { connector?: unknown };
    if (connector !== undefined && (typeof connector !== 'string' || !this.sync.rules.current.rules.connectors[connector])) {
      throw new BadRequestException(`connector must be one of ${Object.keys(this.sync.rules.current.rules.connectors).join(', ')} (or absent for all); got ${JSON.stringify(connector)}`);
    }
    const runId = randomUUID();
    this.runs.set(runId, { runId, status: 'running' });
    this.engine.fullSync(connector as string | undefined, runId).then(
      (result) => this.runs.set(runId, result),
      (error: unknown) => this.runs.set(runId, { runId, status: 'failed', message: error instanceof Error ? error.message : String(error) }),
    );
    return { runId, step: 'full-sync', connector: connector ?? null };
  }

  @Get('sync/runs/:id')
  syncRun(@Param('id') id: string) {
    const run = this.runs.get(id);
    if (!run) throw new NotFoundException(`no full synchronization ${id} since this engine started`);
    return run;
  }

  @Get('held-deletes')
  async held() {
    return { runs: await this.engine.heldDeletes() };
  }

  @Post('held-deletes/:id/approve')
  @HttpCode(200)
  async approve(@Param('id') id: string) {
    if (!UUID.test(id)) throw new BadRequestException(`run id must be a UUID; got ${JSON.stringify(id)}`);
    const released = await this.engine.approveHeldDeletes(id);
    if (released === 0) throw new NotFoundException(`no held deletes for run ${id}`);
    return { runId: id, released };
  }

  @Get('errors')
  async errors(@Query('connector') connector?: string) {
    return { errors: await this.engine.errors(connector) };
  }

  @Get('cs/:connector/:anchor')
  async cs(@Param('connector') connector: string, @Param('anchor') anchor: string) {
    const row = await this.engine.connectorSpace(connector, anchor);
    if (!row) throw new NotFoundException(`no CS object ${connector}/${anchor} in the join engine`);
    return row;
  }
}

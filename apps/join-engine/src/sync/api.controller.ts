import { BadRequestException, Body, Controller, Get, HttpCode, NotFoundException, Param, Post, Query, UnprocessableEntityException } from '@nestjs/common';
import { Synchronizer } from './synchronizer';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The join engine's operations: rules, preview, full synchronization, held deletes, errors. */
@Controller('api/v1')
export class ApiController {
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

  @Post('sync/full')
  @HttpCode(200)
  async fullSync(@Body() body: unknown) {
    const { connector } = (body ?? {}) as { connector?: unknown };
    if (connector !== undefined && (typeof connector !== 'string' || !this.sync.rules.current.rules.connectors[connector])) {
      throw new BadRequestException(`connector must be one of ${Object.keys(this.sync.rules.current.rules.connectors).join(', ')} (or absent for all); got ${JSON.stringify(connector)}`);
    }
    return this.engine.fullSync(connector as string | undefined);
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

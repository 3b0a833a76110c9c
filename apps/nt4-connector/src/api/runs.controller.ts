import { BadRequestException, Body, ConflictException, Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { RunInProgress } from '@metaweave/connector-runtime';
import { Runs } from '../domain/runs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `POST /api/v1/runs {"step":"full-import","partition":"CONTOSO"}`; run history; connection test. */
@Controller('api/v1')
export class RunsController {
  constructor(private readonly runs: Runs) {}

  @Post('runs')
  @HttpCode(202)
  async start(@Body() body: unknown) {
    const { step, partition } = (body ?? {}) as { step?: unknown; partition?: unknown };
    if (step !== 'full-import') throw new BadRequestException(`step must be full-import (the NT4 SAM keeps no change log); got ${JSON.stringify(step)}`);
    const domains = this.runs.domain.partitions();
    if (typeof partition !== 'string' || !domains.includes(partition.toUpperCase())) {
      throw new BadRequestException(`partition must be the configured domain ${domains.join(', ')}; got ${JSON.stringify(partition)}`);
    }
    try {
      return { runId: await this.runs.start(step, partition.toUpperCase()), step, partition: partition.toUpperCase() };
    } catch (error) {
      if (error instanceof RunInProgress) throw new ConflictException(`${error.message}; try again when it has finished`);
      throw error;
    }
  }

  @Get('runs')
  async list() {
    return { runs: await this.runs.driver.listRuns() };
  }

  @Get('runs/:id')
  async get(@Param('id') id: string) {
    if (!UUID.test(id)) throw new BadRequestException(`'${id}' is not a run id (a UUID)`);
    const run = await this.runs.driver.getRun(id);
    if (!run) throw new NotFoundException(`no run ${id}`);
    return run;
  }

  @Get('connection')
  async test() {
    return this.runs.domain.test();
  }
}

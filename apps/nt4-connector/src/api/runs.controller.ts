import { BadRequestException, Body, ConflictException, Controller, Get, HttpCode, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { RunInProgress } from '@metaweave/connector-runtime';
import { Runs } from '../domain/runs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STEPS = ['full-import', 'export'] as const;

/**
 * `POST /api/v1/runs {"step":"full-import"|"export","partition":"CONTOSO"}`; run history; the
 * domain's lease (holder, queue, log); connection test; the public password keys.
 */
@Controller('api/v1')
export class RunsController {
  constructor(private readonly runs: Runs) {}

  @Post('runs')
  @HttpCode(202)
  async start(@Body() body: unknown) {
    const { step, partition } = (body ?? {}) as { step?: unknown; partition?: unknown };
    if (!STEPS.includes(step as (typeof STEPS)[number])) {
      throw new BadRequestException(`step must be one of ${STEPS.join(', ')} (the NT4 SAM keeps no change log, so no delta import); got ${JSON.stringify(step)}`);
    }
    const domain = this.partition(partition);
    if (step === 'export') return { step, partition: domain, ...(await this.runs.exportStep(domain)) };
    try {
      return { runId: await this.runs.start('full-import', domain), step, partition: domain };
    } catch (error) {
      if (error instanceof RunInProgress) throw new ConflictException(`${error.message}; the domain stayed busy past MW_NT4_LEASE_WAIT_MS, try again later`);
      throw error;
    }
  }

  @Get('runs')
  async list() {
    const domain = this.runs.domain.partitions()[0]!;
    return { runs: await this.runs.driver.listRuns(), lease: await this.runs.lease.status(domain, 10) };
  }

  @Get('runs/:id')
  async get(@Param('id') id: string) {
    if (!UUID.test(id)) throw new BadRequestException(`'${id}' is not a run id (a UUID)`);
    const run = await this.runs.driver.getRun(id);
    if (!run) throw new NotFoundException(`no run ${id}`);
    return run;
  }

  /** `GET /api/v1/lease?limit=100`: who holds the domain, how many wait, the lease log. */
  @Get('lease')
  async lease(@Query('limit') limit?: string) {
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new BadRequestException(`limit must be an integer 1..10000; got ${JSON.stringify(limit)}`);
    return this.runs.lease.status(this.runs.domain.partitions()[0]!, n);
  }

  @Get('connection')
  async test() {
    const domain = this.runs.domain.partitions()[0]!;
    const [connection, lease] = await Promise.all([this.runs.domain.test(), this.runs.lease.status(domain, 5)]);
    return { ...connection, lease };
  }

  /** The public halves of the connector's password keys (what the password service seals to). */
  @Get('password-keys')
  keys() {
    return { connector: this.runs.domain.name, domain: this.runs.domain.partitions()[0], keys: this.runs.passwordKeys() };
  }

  private partition(partition: unknown): string {
    const domains = this.runs.domain.partitions();
    if (typeof partition !== 'string' || !domains.includes(partition.toUpperCase())) {
      throw new BadRequestException(`partition must be the configured domain ${domains.join(', ')}; got ${JSON.stringify(partition)}`);
    }
    return partition.toUpperCase();
  }
}

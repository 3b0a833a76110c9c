import { BadRequestException, Body, ConflictException, Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { RunInProgress, type RunStep } from '@metaweave/connector-runtime';
import { CONFIG, type ExchangeConfig } from '../config';
import { Runs } from '../import/runs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STEPS: readonly (RunStep | 'export')[] = ['full-import', 'delta-import', 'export'];

/** Run steps on demand: `POST /api/v1/runs {"step":"full-import","partition":"SiteA"}`; run history. */
@Controller('api/v1/runs')
export class RunsController {
  constructor(
    @Inject(CONFIG) private readonly config: ExchangeConfig,
    private readonly runs: Runs,
  ) {}

  @Post()
  @HttpCode(202)
  async start(@Body() body: unknown) {
    const { step, partition } = (body ?? {}) as { step?: unknown; partition?: unknown };
    if (!STEPS.includes(step as RunStep | 'export')) {
      throw new BadRequestException(`step must be one of ${STEPS.join(', ')}; got ${JSON.stringify(step)}`);
    }
    if (typeof partition !== 'string' || !this.config.sites.includes(partition)) {
      throw new BadRequestException(`partition must be one of the configured sites ${this.config.sites.join(', ')}; got ${JSON.stringify(partition)}`);
    }
    if (step === 'export') {
      // Export commands are applied as they arrive; this step retries the pending (refused) ones.
      return { step, partition, ...(await this.runs.exportStep(partition)) };
    }
    try {
      return { runId: await this.runs.start(step as RunStep, partition), step, partition };
    } catch (error) {
      if (error instanceof RunInProgress) throw new ConflictException(`${error.message}; try again when it has finished`);
      throw error;
    }
  }

  /** `GET /api/v1/runs/profiles`: the configured run profiles and their schedules. */
  @Get('profiles')
  profiles() {
    return { profiles: this.runs.profiles.list() };
  }

  /** `POST /api/v1/runs/profiles/<name> {"partition"?: "<site>"}`: runs a profile now and waits for it. */
  @Post('profiles/:name')
  @HttpCode(200)
  async runProfile(@Param('name') name: string, @Body() body: unknown) {
    if (!this.runs.profiles.has(name)) throw new NotFoundException(`no run profile '${name}' (configured: ${this.runs.profiles.list().map((p) => p.name).join(', ') || 'none'})`);
    const { partition } = (body ?? {}) as { partition?: unknown };
    if (partition !== undefined && (typeof partition !== 'string' || !this.config.sites.includes(partition))) {
      throw new BadRequestException(`partition must be one of the configured sites ${this.config.sites.join(', ')}; got ${JSON.stringify(partition)}`);
    }
    return { profile: name, partitions: await this.runs.profiles.run(name, partition as string | undefined) };
  }

  @Get()
  async list(@Query('partition') partition?: string) {
    return { runs: await this.runs.driver.listRuns(partition) };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    if (!UUID.test(id)) throw new BadRequestException(`'${id}' is not a run id (a UUID)`);
    const run = await this.runs.driver.getRun(id);
    if (!run) throw new NotFoundException(`no run ${id}`);
    return run;
  }
}

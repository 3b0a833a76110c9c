import { Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CONFIG, type ExchangeConfig } from '../config';
import { Runs } from '../import/runs';
import { refreshSchema } from '../import/schema-refresh';

/** `GET /api/v1/schema`: object types and attributes discovered from the directory now. */
@Controller('api/v1/schema')
export class SchemaController {
  constructor(
    private readonly runs: Runs,
    private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: ExchangeConfig,
  ) {}

  @Get()
  async discover() {
    return this.runs.directory.capabilities.schema.discover();
  }

  /** `POST /api/v1/schema/refresh`: what was added, removed or changed since the last refresh. */
  @Post('refresh')
  @HttpCode(200)
  async refresh() {
    return refreshSchema(this.db, this.config.database.schema, this.config.connector, () => this.runs.directory.capabilities.schema.discover());
  }
}

/** `GET /api/v1/connection`: reachable, may read, may write (administrator rights), in words. */
@Controller('api/v1/connection')
export class ConnectionController {
  constructor(private readonly runs: Runs) {}

  @Get()
  async test() {
    return this.runs.directory.test();
  }
}

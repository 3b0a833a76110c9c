import { Controller, Get } from '@nestjs/common';
import { Runs } from '../import/runs';

/** `GET /api/v1/schema`: object types and attributes discovered from the directory now. */
@Controller('api/v1/schema')
export class SchemaController {
  constructor(private readonly runs: Runs) {}

  @Get()
  async discover() {
    return this.runs.directory.capabilities.schema.discover();
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

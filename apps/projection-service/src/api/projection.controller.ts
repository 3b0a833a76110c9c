import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { Roles } from '@metaweave/auth';
import { DataSource } from 'typeorm';
import { ActiveSchema } from '../read-model/active-schema';
import { Rebuilder } from '../read-model/rebuild';
import { checksum } from '../read-model/store';

/** The read model itself: its checksum, and a rebuild from the MV event stream. */
@Controller('api/v1/projection')
export class ProjectionController {
  constructor(
    private readonly db: DataSource,
    private readonly active: ActiveSchema,
    private readonly rebuilder: Rebuilder,
  ) {}

  @Get('checksum')
  @Roles('browse')
  async checksum() {
    const offsets = await this.db.query(`SELECT topic, kafka_partition AS partition, next_offset AS "nextOffset" FROM ${this.active.table('consumer_offset')} ORDER BY topic, kafka_partition`);
    return { ...(await checksum(this.db, this.active.current)), offsets, rebuilding: this.rebuilder.inProgress };
  }

  @Post('rebuild')
  @Roles('admins')
  @HttpCode(200)
  async rebuild() {
    return this.rebuilder.rebuild();
  }
}

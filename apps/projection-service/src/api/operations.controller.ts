import { Body, Controller, Get, Headers, Param, Post, Res } from '@nestjs/common';
import { Roles } from '@metaweave/auth';
import { Forwarder, type Forwarded } from './forward';
import { parse, problem } from './problem';
import { disconnectBody, fullSyncBody, joinBody, startRunBody } from './schemas';

interface Reply {
  status(n: number): { json(b: unknown): void };
}

function relay(res: Reply, f: Forwarded): void {
  res.status(f.status).json(f.body);
}

/** Operations forwarded to the service that owns them (see Forwarder). */
@Controller('api/v1')
export class OperationsController {
  constructor(private readonly forward: Forwarder) {}

  /** Starts a run step on a connector: `{connector, partition, step}` → the connector's `POST /api/v1/runs`. */
  @Post('runs')
  @Roles('operators')
  async startRun(@Body() raw: unknown, @Headers('authorization') auth: string | undefined, @Res() res: Reply) {
    const body = parse(startRunBody, raw, 'run request');
    const url = `${this.forward.connectorUrl(body.connector)}/api/v1/runs`;
    relay(res, await this.forward.send(`connector '${body.connector}'`, 'POST', url, auth, { partition: body.partition, step: body.step }));
  }

  /** What a synchronization would do with one connector object now, without doing it (join engine). */
  @Get('preview/:connector/:anchor')
  @Roles('browse')
  async preview(@Param('connector') connector: string, @Param('anchor') anchor: string, @Headers('authorization') auth: string | undefined, @Res() res: Reply) {
    if (!/^[a-z][a-z0-9-]*$/.test(connector)) throw problem(400, `'${connector}' is not a connector name`);
    const url = `${this.forward.joinEngineUrl()}/api/v1/preview/${encodeURIComponent(connector)}/${encodeURIComponent(anchor)}`;
    relay(res, await this.forward.send('the join engine', 'GET', url, auth));
  }

  /** Lets the deletes a run held beyond its threshold go ahead (join engine). */
  @Post('held-deletes/:id/approve')
  @Roles('admins')
  async approve(@Param('id') id: string, @Headers('authorization') auth: string | undefined, @Res() res: Reply) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw problem(400, `'${id}' is not a held-delete id (a UUID)`);
    const url = `${this.forward.joinEngineUrl()}/api/v1/held-deletes/${id}/approve`;
    relay(res, await this.forward.send('the join engine', 'POST', url, auth, {}));
  }

  /** Explicit connector: joins a connector object to a metaverse object by hand (join engine). */
  @Post('joins')
  @Roles('joiners')
  async join(@Body() raw: unknown, @Headers('authorization') auth: string | undefined, @Res() res: Reply) {
    const body = parse(joinBody, raw, 'join request');
    relay(res, await this.forward.send('the join engine', 'POST', `${this.forward.joinEngineUrl()}/api/v1/joins`, auth, body));
  }

  /** Disconnects a connector object (explicit disconnector by default) (join engine). */
  @Post('disconnects')
  @Roles('joiners')
  async disconnect(@Body() raw: unknown, @Headers('authorization') auth: string | undefined, @Res() res: Reply) {
    const body = parse(disconnectBody, raw, 'disconnect request');
    relay(res, await this.forward.send('the join engine', 'POST', `${this.forward.joinEngineUrl()}/api/v1/disconnects`, auth, body));
  }

  /** Re-evaluates every connector object against the current rules (join engine). */
  @Post('sync/full')
  @Roles('operators')
  async fullSync(@Body() raw: unknown, @Headers('authorization') auth: string | undefined, @Res() res: Reply) {
    const body = parse(fullSyncBody, raw ?? {}, 'full synchronization request');
    relay(res, await this.forward.send('the join engine', 'POST', `${this.forward.joinEngineUrl()}/api/v1/sync/full`, auth, body));
  }
}

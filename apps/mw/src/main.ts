import { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { api, urls } from './api';
import { registerCommandModules } from './commands';
import { runNt4 } from './commands/nt4';
import { firstSync, runStep, seedDemoDirectory } from './demo';
import { SERVICES, isReady, logFile, serviceSpec, servicePid, startService, stopService, waitReady } from './services';
import { stackEnv, stackScript } from './workspace';

const program = new Command('mw').description('Metaweave operator tool: the local stack, runs, the metaverse').showHelpAfterError();

async function servicesUp(): Promise<void> {
  const env = stackEnv();
  for (const spec of SERVICES) {
    const already = servicePid(spec.name);
    const pid = startService(spec, env);
    process.stderr.write(`${spec.name}: ${already ? 'already running' : 'starting'} (pid ${pid}, port ${spec.port})\n`);
  }
  for (const spec of SERVICES) {
    await waitReady(spec);
    process.stderr.write(`${spec.name}: ready on 127.0.0.1:${spec.port}\n`);
  }
}

async function servicesDown(): Promise<void> {
  for (const spec of [...SERVICES].reverse()) {
    if (await stopService(spec.name)) process.stderr.write(`${spec.name}: stopped\n`);
  }
}

const stack = program.command('stack').description('the whole system on this machine: Kafka, PostgreSQL, slapd, Samba and the five services');
stack
  .command('up')
  .description('install what is missing, start everything, wait until ready (idempotent)')
  .option('--infra-only', 'start Kafka, PostgreSQL, slapd and Samba but not the services')
  .action(async (opts: { infraOnly?: boolean }) => {
    if (stackScript(['up']) !== 0) process.exit(1);
    if (!opts.infraOnly) await servicesUp();
  });
stack
  .command('down')
  .description('stop the services (graceful drain) and every daemon, each by its own pid')
  .action(async () => {
    await servicesDown();
    process.exit(stackScript(['down']));
  });
stack
  .command('status')
  .description('each component up or down')
  .option('--json', 'machine-readable')
  .action(async (opts: { json?: boolean }) => {
    const { execFileSync } = await import('node:child_process');
    const { STACK_SCRIPT, ROOT } = await import('./workspace');
    let infra: { components: Record<string, { up: boolean }> } = { components: {} };
    try {
      infra = JSON.parse(execFileSync('bash', [STACK_SCRIPT, 'status', '--json'], { cwd: ROOT, encoding: 'utf8' }));
    } catch (error) {
      const out = (error as { stdout?: string }).stdout;
      if (out) infra = JSON.parse(out);
    }
    const components: Record<string, unknown> = { ...infra.components };
    for (const spec of SERVICES) {
      const pid = servicePid(spec.name);
      components[spec.name] = { up: pid !== null && (await isReady(spec)), pid, port: spec.port, log: logFile(spec.name) };
    }
    const allUp = Object.values(components).every((c) => (c as { up: boolean }).up);
    if (opts.json) console.log(JSON.stringify({ up: allUp, components }, null, 2));
    else for (const [name, c] of Object.entries(components)) console.log(`${name.padEnd(20)} ${(c as { up: boolean }).up ? 'up' : 'DOWN'}`);
    process.exit(allUp ? 0 : 3);
  });
stack
  .command('logs [component]')
  .description('where the logs are; with a service name, its last lines')
  .option('-n, --lines <n>', 'lines to show', '40')
  .action((component: string | undefined, opts: { lines: string }) => {
    const spec = SERVICES.find((s) => s.name === component);
    if (spec) {
      const path = logFile(spec.name);
      console.log(existsSync(path) ? readFileSync(path, 'utf8').trimEnd().split('\n').slice(-Number(opts.lines)).join('\n') : `no log yet at ${path}`);
      return;
    }
    if (!component) for (const s of SERVICES) console.log(`${s.name}: ${logFile(s.name)}`);
    process.exit(stackScript(component ? ['logs', component] : ['logs']));
  });

program
  .command('service')
  .description('one service in the foreground, with the local stack settings')
  .command('run <name>')
  .action(async (name: string) => {
    const spec = serviceSpec(name);
    const { spawnSync } = await import('node:child_process');
    const { REGISTER, entryPoint } = await import('./services');
    const r = spawnSync(process.execPath, ['-r', REGISTER, entryPoint(name)], { stdio: 'inherit', env: { ...process.env, ...spec.env(stackEnv()) } });
    process.exit(r.status ?? 1);
  });

program
  .command('run <connector> <step>')
  .description('start a run step and wait for it, e.g. `mw run exchange full-import --partition SiteA`, `mw run nt4 full-import --domain CONTOSO`')
  .option('-p, --partition <partition>', 'partition (Exchange site; required for exchange)')
  .option('-d, --domain <domain>', 'NT4 domain (nt4; default: the one the instance serves)')
  .action(async (connector: string, step: string, opts: { partition?: string; domain?: string }) => {
    if (connector === 'nt4') return console.log(JSON.stringify(await runNt4(step, opts.domain ?? opts.partition), null, 2));
    if (!opts.partition) throw new Error(`--partition <site> is required for mw run exchange`);
    if (connector !== 'exchange' || (step !== 'full-import' && step !== 'delta-import')) {
      throw new Error(`supported today: mw run exchange full-import|delta-import --partition <site>, mw run nt4 full-import|export [--domain D] (got ${connector} ${step})`);
    }
    console.log(JSON.stringify(await runStep(step, opts.partition), null, 2));
  });

program
  .command('schema <connector> [connector2]')
  .description('object types and attributes the connector discovers in its directory now (`mw schema exchange`); `mw schema refresh exchange`: what changed since the last refresh')
  .action(async (connector: string, connector2?: string) => {
    if (connector === 'refresh') {
      if (connector2 !== 'exchange') throw new Error(`supported today: mw schema refresh exchange (got ${connector2 ?? 'nothing'})`);
      console.log(JSON.stringify(await api('POST', `${urls.exchange}/api/v1/schema/refresh`), null, 2));
      return;
    }
    if (connector !== 'exchange') throw new Error(`supported today: mw schema exchange (got ${connector})`);
    const schema = await api<{ objectTypes: { name: string; mandatory: string[]; attributes: string[] }[] }>('GET', `${urls.exchange}/api/v1/schema`);
    console.log(JSON.stringify(schema, null, 2));
  });

program
  .command('demo')
  .description('the quick start: stack up, a small Exchange organisation, the five services, the metaverse, a live change')
  .action(async () => {
    if (stackScript(['up']) !== 0) process.exit(1);
    const expected = await seedDemoDirectory();
    await servicesUp();
    await firstSync(expected);
  });

registerCommandModules(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`mw: ${(error as Error).message}`);
  process.exit(1);
});

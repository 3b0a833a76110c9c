import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './stack';
import { waitFor } from './wait';

export interface ServiceProcessOptions {
  /** App name under apps/ (compiled to dist/ by `npm run build`). */
  readonly name: string;
  readonly env: Record<string, string>;
}

/**
 * One service as a real OS process, as deploy/local runs it. Output is kept for assertions and
 * shown when a wait fails.
 */
export class ServiceProcess {
  private child?: ChildProcess;
  private output = '';
  exitCode: number | null = null;
  private exited?: Promise<number | null>;

  constructor(private readonly options: ServiceProcessOptions) {}

  start(): this {
    this.output = '';
    this.exitCode = null;
    const child = spawn(
      process.execPath,
      ['-r', join(REPO_ROOT, 'tools', 'bin', 'register-paths.cjs'), join(REPO_ROOT, 'dist', 'apps', this.options.name, 'src', 'main.js')],
      { cwd: REPO_ROOT, env: { PATH: process.env['PATH'] ?? '', ...this.options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((r) =>
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        r(this.exitCode);
      }),
    );
    this.child = child;
    return this;
  }

  get logs(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitCode === null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitReady(port: number, timeoutMs = 120_000): Promise<void> {
    await waitFor(
      `${this.options.name} ready on port ${port}`,
      async () => {
        if (!this.running) throw new Error(`${this.options.name} exited with ${this.exitCode}:\n${this.output.slice(-3000)}`);
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2000) });
        return res.ok ? true : undefined;
      },
      timeoutMs,
      250,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- ${this.options.name} output ---\n${this.output.slice(-3000)}`);
    });
  }

  /** Resolves with the exit code once the process has ended. */
  async waitExit(timeoutMs = 60_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.options.name} still running after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited!, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL: no shutdown hook runs, nothing is drained or committed. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.waitExit();
  }

  /** SIGTERM and wait for the graceful drain. */
  async stop(timeoutMs = 40_000): Promise<number | null> {
    if (!this.running) return this.exitCode;
    this.child!.kill('SIGTERM');
    return this.waitExit(timeoutMs);
  }
}

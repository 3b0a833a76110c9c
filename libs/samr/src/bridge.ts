/**
 * SamrBridge: runs bridge/samr_bridge.py (Samba's SAMR client library) as a child process and
 * speaks protocol 1 with it over stdin/stdout. Many requests may be in flight; responses are
 * matched by id. The bridge answers them one at a time, in order, over one SAMR connection per
 * domain. If the process dies, in-flight requests fail with a retriable CONNECTION_BROKEN, a new
 * process is started, and each domain reconnects before its next request.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { dirname, join, resolve } from 'node:path';
import { SamrError } from './errors';
import { validateAccountName, validateGroupName } from './names';
import { SAMR_BRIDGE_PROTOCOL, batchFromWire, parseBridgeLine, userFieldsToWire, userFromWire } from './protocol';
import type {
  BatchItem,
  Hello,
  LogonResult,
  SamrConnectOptions,
  SamrDisplayGroup,
  SamrDisplayUser,
  SamrDomainDescription,
  SamrDomainInfo,
  SamrGroup,
  SamrPasswordPolicy,
  SamrUser,
  SamrUserFields,
  SetPasswordOptions,
  SetPasswordResult,
  WireBatchItem,
  WireUser,
} from './protocol';

const tracer = trace.getTracer('@metaweave/samr');

/** pino-compatible, like @metaweave/messaging's Logger. */
export interface SamrLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silentLogger: SamrLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface SamrBridgeOptions {
  /** The interpreter that sees python3-samba. Default /usr/bin/python3. */
  readonly pythonPath?: string;
  /** Default: bridge/samr_bridge.py of this library. */
  readonly bridgePath?: string;
  /** Per-request timeout unless a call says otherwise. Default 120 s. */
  readonly requestTimeoutMs?: number;
  /** Time allowed for the process to say hello. Default 20 s. */
  readonly startTimeoutMs?: number;
  /**
   * A request that times out leaves the (sequential) bridge busy with it: kill and restart the
   * process so the requests behind it do not wait too. Default true.
   */
  readonly restartOnTimeout?: boolean;
  /** Each stderr line of the bridge (it never contains a password). */
  readonly onStderr?: (line: string) => void;
  readonly logger?: SamrLogger;
  /** Environment of the bridge process. Default: this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface RequestOptions {
  readonly timeoutMs?: number;
}

interface Pending {
  readonly op: string;
  readonly generation: number;
  readonly secrets: readonly string[];
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: SamrError) => void;
  readonly timer: NodeJS.Timeout;
}

interface DomainEntry {
  readonly key: string;
  readonly options: SamrConnectOptions;
  generation: number;
  connecting: Promise<SamrDomainDescription> | undefined;
  connectingGeneration: number;
}

/** Where the bridge script is: next to src/ in the repository, also when running compiled code from dist/. */
export function defaultBridgePath(): string {
  const candidates = [resolve(__dirname, '..', 'bridge', 'samr_bridge.py')];
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    candidates.push(join(dir, 'libs', 'samr', 'bridge', 'samr_bridge.py'));
    dir = dirname(dir);
  }
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class SamrBridge {
  private readonly python: string;
  private readonly script: string;
  private readonly timeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly log: SamrLogger;
  private child: ChildProcessWithoutNullStreams | undefined;
  private ready: Promise<void> | undefined;
  private generation = 0;
  private nextId = 1;
  private consecutiveFailures = 0;
  private closed = false;
  private closingRequested = false;
  private closing: Promise<void> | undefined;
  private helloInfo: Hello | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly domains = new Map<string, DomainEntry>();
  /** How many times the process was replaced after dying or timing out. */
  restarts = 0;

  private constructor(private readonly options: SamrBridgeOptions) {
    this.python = options.pythonPath ?? '/usr/bin/python3';
    this.script = options.bridgePath ?? defaultBridgePath();
    this.timeoutMs = options.requestTimeoutMs ?? 120_000;
    this.startTimeoutMs = options.startTimeoutMs ?? 20_000;
    this.log = options.logger ?? silentLogger;
  }

  /** Starts the process and checks its hello (protocol 1). Fails with PROTOCOL_ERROR otherwise. */
  static async start(options: SamrBridgeOptions = {}): Promise<SamrBridge> {
    const bridge = new SamrBridge(options);
    await bridge.ensureStarted();
    return bridge;
  }

  get hello(): Hello | undefined {
    return this.helloInfo;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Opens (or reopens) the SAMR connection of one domain and returns its handle. */
  async connect(options: SamrConnectOptions): Promise<SamrDomain> {
    await (this.refuseIfClosing('connect') ?? Promise.resolve());
    if (!options.password) throw new SamrError('INVALID_PARAMETER', 'a blank administrative password is refused');
    const key = options.domain.toUpperCase();
    const entry: DomainEntry = { key, options, generation: -1, connecting: undefined, connectingGeneration: -1 };
    this.domains.set(key, entry);
    try {
      const description = await this.connectEntry(entry);
      return new SamrDomain(this, entry.key, description);
    } catch (e) {
      if (this.domains.get(key) === entry) this.domains.delete(key);
      throw e;
    }
  }

  /** One raw protocol request (for operations this class does not wrap). */
  request<T>(op: string, args: Record<string, unknown> = {}, options: RequestOptions & { secrets?: readonly string[] } = {}): Promise<T> {
    const refused = this.refuseIfClosing(op);
    return refused ?? this.send<T>(op, args, options);
  }

  private refuseIfClosing(op: string): Promise<never> | undefined {
    if (!this.closingRequested) return undefined;
    return Promise.reject(new SamrError('NOT_CONNECTED', `${op}: the SAMR bridge is closed`, { retriable: false, op }));
  }

  /**
   * One request to the bridge, as a CLIENT span `samr <op>` (rpc.system dce_rpc). Only the operation
   * and the domain are recorded: arguments (account data, passwords) never reach a span.
   */
  private send<T>(op: string, args: Record<string, unknown>, options: RequestOptions & { secrets?: readonly string[] } = {}): Promise<T> {
    return tracer.startActiveSpan(
      `samr ${op}`,
      { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'dce_rpc', 'rpc.service': 'samr', 'rpc.method': op, ...(typeof args['domain'] === 'string' ? { 'samr.domain': args['domain'] } : {}) } },
      async (span) => {
        try {
          return await this.sendRaw<T>(op, args, options);
        } catch (error) {
          // SamrError messages are built by redacting known secrets; still, only the status goes on the span.
          span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof SamrError ? error.status : 'error' });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  private async sendRaw<T>(op: string, args: Record<string, unknown>, options: RequestOptions & { secrets?: readonly string[] } = {}): Promise<T> {
    await this.ensureStarted();
    const child = this.child;
    if (!child) throw new SamrError('CONNECTION_BROKEN', `${op}: the SAMR bridge is not running`, { op });
    const id = this.nextId++;
    const generation = this.generation;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const secrets = [...(options.secrets ?? []), ...[...this.domains.values()].map((d) => d.options.password)];
    return new Promise<T>((resolvePromise, rejectPromise) => {
      const timer = setTimeout(() => this.onTimeout(id, timeoutMs), timeoutMs);
      this.pending.set(id, { op, generation, secrets, resolve: resolvePromise as (v: unknown) => void, reject: rejectPromise, timer });
      child.stdin.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  /** A request on behalf of one domain: reconnects first if the process was replaced. */
  domainRequest<T>(key: string, op: string, args: Record<string, unknown>, options: RequestOptions & { secrets?: readonly string[] } = {}): Promise<T> {
    return this.refuseIfClosing(op) ?? this.domainSend<T>(key, op, args, options);
  }

  private async domainSend<T>(key: string, op: string, args: Record<string, unknown>, options: RequestOptions & { secrets?: readonly string[] }): Promise<T> {
    const entry = this.domains.get(key);
    if (!entry) throw new SamrError('NOT_CONNECTED', `${op}: domain ${key} is not connected`, { op });
    for (let attempt = 0; ; attempt++) {
      await this.ensureStarted();
      if (entry.generation !== this.generation) await this.connectEntry(entry);
      try {
        return await this.send<T>(op, { ...args, domain: key }, options);
      } catch (e) {
        // the process was replaced between our connect and the request: connect again, once
        if (attempt === 0 && e instanceof SamrError && e.status === 'NOT_CONNECTED') {
          entry.generation = -1;
          continue;
        }
        throw e;
      }
    }
  }

  /** Drops a domain's connection. */
  async disconnect(key: string): Promise<void> {
    const entry = this.domains.get(key);
    if (!entry) return;
    this.domains.delete(key);
    if (this.child && entry.generation === this.generation) await this.send('disconnect', { domain: key });
  }

  /**
   * Refuses new requests at once, lets the ones already made finish (the bridge answers every
   * line before it reads EOF), then stops the process; SIGKILL after `graceMs`.
   */
  close(graceMs = 10_000): Promise<void> {
    if (this.closing) return this.closing;
    this.closingRequested = true;
    this.closing = (async () => {
      // requests made before close() may still be on their way to stdin (a few microtasks)
      await new Promise<void>((r) => setImmediate(r));
      const child = this.child;
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      this.closed = true;
    })();
    return this.closing;
  }

  // --- process management -----------------------------------------------------------------------

  private ensureStarted(): Promise<void> {
    if (this.closed || (this.closingRequested && !this.child)) return Promise.reject(new SamrError('NOT_CONNECTED', 'the SAMR bridge is closed', { retriable: false }));
    if (!this.ready) {
      const backoff = this.consecutiveFailures === 0 ? 0 : Math.min(5_000, 100 * 2 ** this.consecutiveFailures);
      this.ready = sleep(backoff)
        .then(() => this.spawnOnce())
        .then(
          () => {
            this.consecutiveFailures = 0;
          },
          (e: unknown) => {
            this.consecutiveFailures++;
            this.ready = undefined;
            throw e;
          },
        );
    }
    return this.ready;
  }

  private spawnOnce(): Promise<void> {
    if (this.closed || this.closingRequested) return Promise.reject(new SamrError('NOT_CONNECTED', 'the SAMR bridge is closed', { retriable: false }));
    const generation = ++this.generation;
    const child = spawn(this.python, [this.script], { stdio: ['pipe', 'pipe', 'pipe'], env: this.options.env ?? process.env });
    this.child = child;
    this.log.debug({ pid: child.pid, generation, script: this.script }, 'samr bridge starting');

    return new Promise<void>((resolveStart, rejectStart) => {
      let started = false;
      const fail = (error: SamrError) => {
        if (started) return;
        started = true;
        clearTimeout(startTimer);
        child.kill('SIGKILL');
        rejectStart(error);
      };
      const startTimer = setTimeout(
        () => fail(new SamrError('PROTOCOL_ERROR', `the SAMR bridge (${this.python} ${this.script}) said no hello within ${this.startTimeoutMs} ms`, { retriable: true })),
        this.startTimeoutMs,
      );
      child.on('error', (err) =>
        fail(new SamrError('PROTOCOL_ERROR', `cannot start the SAMR bridge with ${this.python}: ${err.message}`, { retriable: false, cause: err })),
      );
      child.stdin.on('error', () => {
        /* EPIPE when the process died: the exit handler reports it */
      });

      lines(child.stdout, (line) => {
        if (!line.trim()) return;
        let msg: ReturnType<typeof parseBridgeLine>;
        try {
          msg = parseBridgeLine(line);
        } catch (e) {
          this.log.error({ generation }, (e as Error).message);
          if (!started) fail(e as SamrError);
          return;
        }
        if ('hello' in msg) {
          const hello = msg.hello;
          if (hello.error || hello.protocol !== SAMR_BRIDGE_PROTOCOL) {
            fail(
              new SamrError(
                'PROTOCOL_ERROR',
                hello.error
                  ? `the SAMR bridge cannot run: ${hello.error}`
                  : `the SAMR bridge speaks protocol ${hello.protocol}; this client speaks ${SAMR_BRIDGE_PROTOCOL}`,
                { retriable: false },
              ),
            );
            return;
          }
          this.helloInfo = hello;
          if (!started) {
            started = true;
            clearTimeout(startTimer);
            this.log.info({ pid: hello.pid, samba: hello.samba, generation }, 'samr bridge ready');
            resolveStart();
          }
          return;
        }
        this.onResponse(msg);
      });
      lines(child.stderr, (line) => {
        if (!line) return;
        this.options.onStderr?.(line);
        this.log.debug({ pid: child.pid }, line);
      });

      child.on('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        const broken = [...this.pending.entries()].filter(([, p]) => p.generation === generation);
        for (const [id, p] of broken) {
          this.pending.delete(id);
          clearTimeout(p.timer);
          p.reject(
            new SamrError('CONNECTION_BROKEN', `${p.op}: the SAMR bridge exited (${signal ?? `code ${code}`}) before answering`, {
              retriable: true,
              op: p.op,
            }),
          );
        }
        fail(new SamrError('CONNECTION_BROKEN', `the SAMR bridge exited (${signal ?? `code ${code}`}) before its hello`, { retriable: true }));
        if (this.generation === generation) this.ready = undefined;
        if (!this.closingRequested) {
          this.restarts++;
          this.log.warn({ code, signal, failedRequests: broken.length, generation }, 'samr bridge exited; a new one starts with the next request');
        }
      });
    });
  }

  private onResponse(msg: Exclude<ReturnType<typeof parseBridgeLine>, { hello: Hello }>): void {
    const id = msg.id;
    const p = id === null ? undefined : this.pending.get(id);
    if (!p) {
      this.log.debug({ id }, 'samr bridge answered a request nobody waits for (timed out)');
      return;
    }
    this.pending.delete(id!);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(SamrError.fromWire(msg.error, p.op, p.secrets));
  }

  private onTimeout(id: number, timeoutMs: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.reject(new SamrError('TIMEOUT', `${p.op}: no answer from the SAMR bridge within ${timeoutMs} ms`, { op: p.op }));
    if ((this.options.restartOnTimeout ?? true) && this.child && p.generation === this.generation) {
      this.log.warn({ op: p.op, timeoutMs }, 'samr request timed out; restarting the bridge');
      // retire it now: requests made from here on go to a new process, not to the dying one
      const child = this.child;
      this.child = undefined;
      this.ready = undefined;
      child.kill('SIGKILL');
    }
  }

  private async connectEntry(entry: DomainEntry): Promise<SamrDomainDescription> {
    await this.ensureStarted();
    const generation = this.generation;
    if (!entry.connecting || entry.connectingGeneration !== generation) {
      const o = entry.options;
      const args: Record<string, unknown> = { host: o.host, domain: o.domain, username: o.username, password: o.password };
      for (const k of ['port', 'clientConf', 'smb1', 'ntlmv2', 'bindingOptions', 'connectTimeoutSeconds', 'rpcTimeoutSeconds', 'debugLevel'] as const) {
        if (o[k] !== undefined) args[k] = o[k];
      }
      entry.connectingGeneration = generation;
      entry.connecting = this.send<SamrDomainDescription>('connect', args, { secrets: [o.password] }).then(
        (d) => {
          entry.generation = generation;
          entry.connecting = undefined;
          return d;
        },
        (e: unknown) => {
          entry.connecting = undefined;
          throw e;
        },
      );
    }
    return entry.connecting;
  }
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
  });
  stream.on('end', () => {
    if (buffer) onLine(buffer);
    buffer = '';
  });
}

// --- one domain -------------------------------------------------------------------------------

export interface CreateUserSpec {
  readonly accountName: string;
  /** Default true. Ignored when `acb` is given. */
  readonly enabled?: boolean;
  /** The whole ACB word (ACB.NORMAL must be in it). */
  readonly acb?: number;
  readonly fields?: Omit<SamrUserFields, 'accountName' | 'acb'>;
  readonly password?: string;
  readonly forceChangeAtNextLogon?: boolean;
}

export interface UpdateUserSpec {
  readonly fields?: SamrUserFields;
  /** Clears or sets ACB_DISABLED on the current flags (or on `fields.acb`). */
  readonly enabled?: boolean;
  /** Clears ACB_AUTOLOCK. */
  readonly unlock?: boolean;
}

interface WireDomainInfo extends Omit<SamrDomainInfo, 'sequenceNumber' | 'domainCreateTime' | 'modifiedCountAtLastPromotion'> {
  readonly sequenceNumber: string;
  readonly domainCreateTime: string;
  readonly modifiedCountAtLastPromotion?: string;
}

interface Page<T> {
  readonly entries: T[];
  readonly nextIndex: number | null;
}

const LOGON_OUTCOMES = new Set(['LOGON_FAILURE', 'ACCOUNT_DISABLED', 'ACCOUNT_LOCKED_OUT', 'ACCOUNT_RESTRICTION']);

/** The operations of one connected domain. Obtain with `SamrBridge.connect`. */
export class SamrDomain {
  constructor(
    private readonly bridge: SamrBridge,
    /** The domain name, upper case: the key of its connection in the bridge. */
    readonly name: string,
    readonly description: SamrDomainDescription,
  ) {}

  get domainSid(): string {
    return this.description.domainSid;
  }

  private call<T>(op: string, args: Record<string, unknown> = {}, options: RequestOptions & { secrets?: readonly string[] } = {}): Promise<T> {
    return this.bridge.domainRequest<T>(this.name, op, args, options);
  }

  async info(): Promise<SamrDomainInfo> {
    const { sequenceNumber, domainCreateTime, modifiedCountAtLastPromotion, ...rest } = await this.call<WireDomainInfo>('domainInfo');
    return {
      ...rest,
      sequenceNumber: BigInt(sequenceNumber),
      domainCreateTime: BigInt(domainCreateTime),
      ...(modifiedCountAtLastPromotion === undefined ? {} : { modifiedCountAtLastPromotion: BigInt(modifiedCountAtLastPromotion) }),
    };
  }

  async passwordPolicy(): Promise<SamrPasswordPolicy> {
    const w = await this.call<Record<string, number | string>>('passwordPolicy');
    return {
      minPasswordLength: Number(w['minPasswordLength']),
      passwordHistoryLength: Number(w['passwordHistoryLength']),
      passwordProperties: Number(w['passwordProperties']),
      maxPasswordAge: BigInt(w['maxPasswordAge']!),
      minPasswordAge: BigInt(w['minPasswordAge']!),
    };
  }

  /**
   * QueryDisplayInfo level 1, page by page, name order. `fresh`: Samba answers from a snapshot
   * kept per server worker until it has been idle 10 s; with `fresh` the first page waits until
   * this connection's snapshot has expired, so changes made through other connections show.
   */
  async *userPages(options: { pageSize?: number; fresh?: boolean } = {}): AsyncGenerator<SamrDisplayUser[]> {
    let index: number | null = 0;
    while (index !== null) {
      const page: Page<SamrDisplayUser> = await this.call<Page<SamrDisplayUser>>('listUsers', {
        startIndex: index,
        maxEntries: options.pageSize ?? 1000,
        fresh: index === 0 && options.fresh === true,
      });
      if (page.entries.length > 0) yield page.entries;
      index = page.nextIndex;
    }
  }

  async listUsers(options: { pageSize?: number; fresh?: boolean } = {}): Promise<SamrDisplayUser[]> {
    const all: SamrDisplayUser[] = [];
    for await (const page of this.userPages(options)) all.push(...page);
    return all;
  }

  /**
   * Every normal account as { rid, accountName } in one request (EnumDomainUsers). Unlike
   * listUsers it is never answered from a stale Samba snapshot: what a full import should list.
   */
  async enumerateUsers(options: RequestOptions = {}): Promise<{ rid: number; accountName: string }[]> {
    return (await this.call<{ entries: { rid: number; accountName: string }[] }>('enumerateUsers', {}, options)).entries;
  }

  async getUser(rid: number): Promise<SamrUser> {
    return userFromWire(await this.call<WireUser>('getUser', { rid }));
  }

  /** One request, many users; a user that vanished is an error item, not a failed batch. */
  async getUsers(rids: readonly number[], options: RequestOptions = {}): Promise<BatchItem<SamrUser>[]> {
    const items = await this.call<WireBatchItem<WireUser>[]>('getUsers', { rids }, options);
    return batchFromWire(items, userFromWire, 'getUsers');
  }

  /** Diagnostic: the raw library read rate over these RIDs (no results built or sent). */
  benchRead(rids: readonly number[], options: RequestOptions = {}): Promise<{ count: number; ms: number; usersPerSecond: number | null }> {
    return this.call('benchRead', { rids }, options);
  }

  async *groupPages(options: { pageSize?: number; fresh?: boolean } = {}): AsyncGenerator<SamrDisplayGroup[]> {
    let index: number | null = 0;
    while (index !== null) {
      const page: Page<SamrDisplayGroup> = await this.call<Page<SamrDisplayGroup>>('listGroups', {
        startIndex: index,
        maxEntries: options.pageSize ?? 1000,
        fresh: index === 0 && options.fresh === true,
      });
      if (page.entries.length > 0) yield page.entries;
      index = page.nextIndex;
    }
  }

  async listGroups(options: { pageSize?: number; fresh?: boolean } = {}): Promise<SamrDisplayGroup[]> {
    const all: SamrDisplayGroup[] = [];
    for await (const page of this.groupPages(options)) all.push(...page);
    return all;
  }

  getGroup(rid: number): Promise<SamrGroup> {
    return this.call<SamrGroup>('getGroup', { rid });
  }

  async getGroups(rids: readonly number[], options: RequestOptions = {}): Promise<BatchItem<SamrGroup>[]> {
    const items = await this.call<WireBatchItem<SamrGroup>[]>('getGroups', { rids }, options);
    return batchFromWire(items, (g) => g, 'getGroups');
  }

  lookupNames(names: readonly string[]): Promise<{ name: string; rid: number | null; type: string }[]> {
    return this.call('lookupNames', { names });
  }

  /**
   * CreateUser2, then SetUserInfo2 level 21 with the fields, then the password, then the flags
   * (enabled unless `enabled: false`). If a later step fails the half-made account is deleted and
   * the error (with `step`) thrown. Returns the account as read back.
   */
  async createUser(spec: CreateUserSpec): Promise<SamrUser> {
    validateAccountName(spec.accountName);
    const args: Record<string, unknown> = { accountName: spec.accountName };
    if (spec.enabled !== undefined) args['enabled'] = spec.enabled;
    if (spec.acb !== undefined) args['acb'] = spec.acb;
    if (spec.fields) args['fields'] = userFieldsToWire(spec.fields);
    if (spec.password !== undefined) args['password'] = spec.password;
    if (spec.forceChangeAtNextLogon !== undefined) args['forceChangeAtNextLogon'] = spec.forceChangeAtNextLogon;
    return userFromWire(await this.call<WireUser>('createUser', args, { secrets: spec.password ? [spec.password] : [] }));
  }

  /** SetUserInfo2 level 21 with exactly the given fields (`accountName` renames). Returns the account as read back. */
  async updateUser(rid: number, spec: UpdateUserSpec): Promise<SamrUser> {
    if (spec.fields?.accountName !== undefined) validateAccountName(spec.fields.accountName);
    const args: Record<string, unknown> = { rid, fields: userFieldsToWire(spec.fields ?? {}) };
    if (spec.enabled !== undefined) args['enabled'] = spec.enabled;
    if (spec.unlock !== undefined) args['unlock'] = spec.unlock;
    return userFromWire(await this.call<WireUser>('updateUser', args));
  }

  renameUser(rid: number, accountName: string): Promise<SamrUser> {
    return this.updateUser(rid, { fields: { accountName } });
  }

  async deleteUser(rid: number): Promise<void> {
    await this.call('deleteUser', { rid });
  }

  createGroup(spec: { name: string; description?: string }): Promise<SamrGroup> {
    validateGroupName(spec.name);
    return this.call<SamrGroup>('createGroup', { ...spec });
  }

  updateGroup(rid: number, spec: { name?: string; description?: string }): Promise<SamrGroup> {
    if (spec.name !== undefined) validateGroupName(spec.name);
    return this.call<SamrGroup>('updateGroup', { rid, ...spec });
  }

  async deleteGroup(rid: number, options: { removeMembers?: boolean } = {}): Promise<void> {
    await this.call('deleteGroup', { rid, removeMembers: options.removeMembers ?? false });
  }

  async addMember(groupRid: number, userRid: number, attributes?: number): Promise<void> {
    await this.call('addMember', { groupRid, userRid, ...(attributes === undefined ? {} : { attributes }) });
  }

  async removeMember(groupRid: number, userRid: number): Promise<void> {
    await this.call('removeMember', { groupRid, userRid });
  }

  /**
   * Administrative reset: SetUserInfo2 level 26 (salted RC4-MD5 with the session key), falling
   * back to 24 and 23 (RC4 with the session key) on a server without the level; `level` says which.
   */
  async setPassword(rid: number, password: string, options: SetPasswordOptions = {}): Promise<SetPasswordResult> {
    const r = await this.call<{ rid: number; passwordLastSet: string; passwordExpired: boolean; acb: number; unlocked: boolean; level: number }>(
      'setPassword',
      { rid, password, forceChangeAtNextLogon: options.forceChangeAtNextLogon ?? false, unlock: options.unlock ?? false, level: options.level ?? 26 },
      { secrets: [password] },
    );
    return { ...r, passwordLastSet: BigInt(r.passwordLastSet) };
  }

  /** The user proves the old password: SamrUnicodeChangePasswordUser2 (opnum 55). */
  async changePassword(accountName: string, oldPassword: string, newPassword: string): Promise<void> {
    await this.call('changePassword', { accountName, oldPassword, newPassword }, { secrets: [oldPassword, newPassword] });
  }

  /**
   * Authenticates as the user (a new SMB session and SAMR pipe with those credentials).
   * A refused logon is a value; an unreachable server throws.
   */
  async verifyLogon(username: string, password: string): Promise<LogonResult> {
    try {
      const r = await this.call<{ ok: true; ms: number }>('verifyLogon', { username, password }, { secrets: [password] });
      return { ok: true, ms: r.ms };
    } catch (e) {
      if (e instanceof SamrError && LOGON_OUTCOMES.has(e.status)) {
        return { ok: false, status: e.status as 'LOGON_FAILURE', ntStatus: e.ntStatus ?? '' };
      }
      throw e;
    }
  }

  disconnect(): Promise<void> {
    return this.bridge.disconnect(this.name);
  }
}

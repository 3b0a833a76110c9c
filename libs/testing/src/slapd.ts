import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { REPO_ROOT, freePort } from './stack';
import { waitFor } from './wait';

export interface PrivateSlapdOptions {
  /** Directory suffix, e.g. `o=Contoso`. */
  readonly suffix: string;
  /** Extra schema LDIF (cn=config form) loaded after the Exchange 5.5 stand-in schema. */
  readonly extraSchema?: string;
  /** Attribute lines the root DSE carries in addition to slapd's own, e.g. `dsServiceName: cn=…`. */
  readonly rootDse?: readonly string[];
  /** Extra olcAccess rules (before `to * by * read`) of the suffix database. */
  readonly access?: readonly string[];
  /** Extra equality indexes, e.g. `USN-Changed`. */
  readonly indexes?: readonly string[];
  /** Log writes to `cn=accesslog` as the shared stand-in does (the `accesslog` delta strategy). */
  readonly accesslog?: boolean;
}

/**
 * A throw-away slapd of a test's own: a private cn=config, one back-mdb database, the Exchange 5.5
 * stand-in schema (deploy/local/slapd/exchange55.ldif), on a free loopback port. For what the
 * shared stand-in cannot do for a test: bulk loads with `slapadd` (offline, much faster than LDAP
 * adds), a root DSE naming a server, a restart as "another server", access rules for tombstones.
 * Stopped by its own pid; its folder is removed by `dispose()`.
 */
export class PrivateSlapd {
  readonly dir = mkdtempSync(join(tmpdir(), 'mw-slapd-'));
  readonly adminDn: string;
  readonly adminPassword = randomBytes(12).toString('hex');
  private child?: ChildProcess;
  private port = 0;
  private rootDseLines: readonly string[];
  private rootDseSet = false;

  constructor(private readonly o: PrivateSlapdOptions) {
    this.adminDn = `cn=admin,${o.suffix}`;
    this.rootDseLines = o.rootDse ?? [];
  }

  get url(): string {
    return `ldap://127.0.0.1:${this.port}`;
  }

  /** Builds cn=config and loads `ldif` (base entries and anything in bulk) offline with slapadd. */
  create(ldif: string): void {
    mkdirSync(join(this.dir, 'slapd.d'), { recursive: true });
    mkdirSync(join(this.dir, 'db'), { recursive: true });
    writeFileSync(join(this.dir, 'extra.ldif'), this.o.extraSchema ?? 'dn: cn=extra,cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: extra\n');
    this.writeRootDse();
    writeFileSync(join(this.dir, 'config.ldif'), this.configLdif());
    run('slapadd', ['-n0', '-F', join(this.dir, 'slapd.d'), '-l', join(this.dir, 'config.ldif')]);
    this.load(ldif);
  }

  /** Adds entries offline (slapd must be stopped): `slapadd -q`, the bulk path. */
  load(ldif: string): void {
    if (this.child) throw new Error('slapadd needs the private slapd stopped');
    const file = join(this.dir, `load-${Date.now()}.ldif`);
    writeFileSync(file, ldif.endsWith('\n\n') ? ldif : `${ldif}\n\n`);
    run('slapadd', ['-q', '-w', '-F', join(this.dir, 'slapd.d'), '-b', this.o.suffix, '-l', file]);
    rmSync(file);
  }

  /** Changes what the root DSE says (takes effect at the next start). */
  setRootDse(lines: readonly string[]): void {
    this.rootDseLines = lines;
    this.writeRootDse();
  }

  async start(): Promise<void> {
    if (this.child) return;
    this.port = this.port || (await freePort());
    const child = spawn('/usr/sbin/slapd', ['-d', '0', '-F', join(this.dir, 'slapd.d'), '-h', `${this.url}/`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    this.child = child;
    await this.ready(child, () => output).catch(async (error: Error) => {
      await this.stop();
      throw error;
    });
  }

  private async ready(child: ChildProcess, output: () => string): Promise<void> {
    await waitFor(
      `private slapd on ${this.url}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`slapd exited ${child.exitCode}: ${output().slice(-2000)}`);
        const c = await this.client();
        await c.unbind();
        return true;
      },
      30_000,
      100,
    );
    if (this.rootDseLines.length > 0) {
      // slapd reads cn=config before the schema entries under it, so a root DSE file using
      // attributes of the extra schema can only be set on the running server (and is unset at stop).
      const c = new Client({ url: this.url, timeout: 30_000, connectTimeout: 5_000 });
      await c.bind('cn=config', this.adminPassword);
      try {
        await c.modify('cn=config', [new Change({ operation: 'add', modification: new Attribute({ type: 'olcRootDSE', values: [join(this.dir, 'rootdse.ldif')] }) })]);
        this.rootDseSet = true;
      } finally {
        await c.unbind();
      }
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    if (this.rootDseSet) {
      // slapd could not read its own cn=config at the next start (see start): take the setting
      // out of the stored cn=config (and its checksum line, now stale).
      this.rootDseSet = false;
      const file = join(this.dir, 'slapd.d', 'cn=config.ldif');
      writeFileSync(file, readFileSync(file, 'utf8').split('\n').filter((l) => !/^olcRootDSE:|^# CRC32/.test(l)).join('\n'));
    }
  }

  /** A client bound as the directory's administrator. */
  async client(): Promise<Client> {
    const c = new Client({ url: this.url, timeout: 30_000, connectTimeout: 5_000 });
    await c.bind(this.adminDn, this.adminPassword);
    return c;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private writeRootDse(): void {
    writeFileSync(join(this.dir, 'rootdse.ldif'), `dn:\n${this.rootDseLines.map((l) => `${l}\n`).join('')}\n`);
  }

  private configLdif(): string {
    const d = this.dir;
    const hash = run('slappasswd', ['-h', '{SSHA}', '-s', this.adminPassword]).trim();
    const db = this.o.accesslog ? 2 : 1;
    return `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: ${d}/slapd.pid
olcArgsFile: ${d}/slapd.args
olcLogLevel: none
olcSizeLimit: 500

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
${this.o.accesslog ? 'olcModuleLoad: syncprov\nolcModuleLoad: accesslog\n' : ''}
dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
include: file://${join(REPO_ROOT, 'deploy', 'local', 'slapd', 'exchange55.ldif')}
include: file://${d}/extra.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=config
olcRootPW: ${hash}

${this.o.accesslog ? this.accesslogDb() : ''}dn: olcDatabase={${db}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {${db}}mdb
olcSuffix: ${this.o.suffix}
olcDbDirectory: ${d}/db
olcDbMaxSize: 4294967296
olcDbNoSync: TRUE
olcRootDN: ${this.adminDn}
olcRootPW: ${hash}
olcDbIndex: objectClass eq
olcDbIndex: entryUUID eq
${(this.o.indexes ?? []).map((i) => `olcDbIndex: ${i} eq\n`).join('')}olcLimits: {0}dn.exact="${this.adminDn}" size=unlimited time=unlimited
olcLimits: {1}* size.soft=500 size.hard=unlimited size.prtotal=unlimited
${[...(this.o.access ?? []), 'to attrs=userPassword by self write by anonymous auth by * none', 'to * by * read'].map((a, i) => `olcAccess: {${i}}${a}\n`).join('')}
${
  this.o.accesslog
    ? `dn: olcOverlay={0}syncprov,olcDatabase={2}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {0}syncprov
olcSpCheckpoint: 100 10

dn: olcOverlay={1}accesslog,olcDatabase={2}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcAccessLogConfig
olcOverlay: {1}accesslog
olcAccessLogDB: cn=accesslog
olcAccessLogOps: writes
olcAccessLogSuccess: TRUE
olcAccessLogPurge: 07+00:00 01+00:00
olcAccessLogOld: (objectClass=*)
olcAccessLogOldAttr: objectClass rdn uid mail entryUUID

`
    : ''
}`;
  }

  /** The accesslog database, before the one whose overlay writes into it (as deploy/local/lib/slapd.sh). */
  private accesslogDb(): string {
    mkdirSync(join(this.dir, 'accesslog'), { recursive: true });
    return `dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: cn=accesslog
olcDbDirectory: ${this.dir}/accesslog
olcDbMaxSize: 2147483648
olcDbNoSync: TRUE
olcRootDN: ${this.adminDn}
olcDbIndex: default eq
olcDbIndex: entryCSN,objectClass,reqEnd,reqResult,reqStart,reqType,reqDN
olcLimits: dn.exact="${this.adminDn}" size=unlimited time=unlimited
olcAccess: {0}to * by dn.exact="${this.adminDn}" read by * none

dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {0}syncprov
olcSpNoPresent: TRUE
olcSpReloadHint: TRUE

`;
  }
}

function run(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${command} ${args.slice(0, 3).join(' ')} failed (${r.status}): ${(r.stderr || r.stdout).slice(-2000)}`);
  return r.stdout;
}

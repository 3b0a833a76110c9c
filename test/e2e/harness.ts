import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Client } from 'ldapts';
import { Pool } from 'pg';
import { generateSigningKeyPair, TokenIssuer, type Role } from '@metaweave/auth';
import { accountSid, sidFromString } from '@metaweave/samr';
import { generateRecipientKeyPair } from '@metaweave/secrets';
import { ServiceProcess, freePort, stackEnv, uniqueSuffix, waitFor } from '@metaweave/testing';
import type { SpanRecord } from '@metaweave/telemetry';

export type ServiceName = 'exchange-connector' | 'join-engine' | 'projection-service' | 'nt4-connector' | 'password-service';

/**
 * One isolated Metaweave pipeline on the shared local stack: its own topic prefix, its own
 * database schemas, its own Exchange site (partition), its own ports and trace files.
 */
export class Pipeline {
  readonly suffix = uniqueSuffix();
  readonly topicPrefix = `e2e-${this.suffix}.`;
  readonly site = `E2E${this.suffix}`;
  readonly traceDir = mkdtempSync(join(tmpdir(), 'mw-e2e-traces-'));
  readonly stack = stackEnv();
  readonly admin = new Pool({ connectionString: this.stack['MW_PG_ADMIN_URL'], max: 2 });
  readonly ports: Partial<Record<ServiceName, number>> = {};
  readonly processes: Partial<Record<ServiceName, ServiceProcess>> = {};
  /** This pipeline's token signing key: the services get the public key, API calls carry a token. */
  readonly keys = generateSigningKeyPair();
  readonly issuer = new TokenIssuer(this.keys.privateKeyPem, 'metaweave', 'metaweave');
  /** The NT4 connector's password key pair: the password service seals to its public half. */
  readonly nt4PasswordKey = generateRecipientKeyPair('e2e-nt4-1');

  /** The NT4 connector's name in this pipeline (`nt4-<domain>`). */
  get nt4Connector(): string {
    return `nt4-${this.stack['MW_SAMBA_DOMAIN']!.toLowerCase()}`;
  }

  /** A bearer token for this pipeline's services (default: every role). */
  token(roles: Role[] = ['admins']): Promise<string> {
    return this.issuer.issue('e2e', roles);
  }

  schema(service: ServiceName): string {
    return `e2e_${this.suffix}_${service.replace(/-/g, '_')}`;
  }

  async env(service: ServiceName, overrides: Record<string, string> = {}): Promise<Record<string, string>> {
    const port = (this.ports[service] ??= await freePort());
    const base: Record<string, string> = {
      MW_KAFKA_BROKERS: this.stack['KAFKA_BROKERS']!,
      MW_TOPIC_PREFIX: this.topicPrefix,
      MW_DATABASE_URL: this.stack['MW_PG_ADMIN_URL']!,
      MW_DATABASE_SCHEMA: this.schema(service),
      MW_HTTP_PORT: String(port),
      MW_HTTP_HOST: '127.0.0.1',
      MW_OTEL_EXPORTER: 'file',
      MW_OTEL_FILE: join(this.traceDir, `${service}.jsonl`),
      MW_LOG_LEVEL: 'warn',
      MW_AUTH_PUBLIC_KEYS: this.keys.publicKeyPem,
    };
    if (service === 'exchange-connector') {
      Object.assign(base, {
        MW_LDAP_URL: this.stack['MW_LDAP_URL']!,
        MW_LDAP_BIND_DN: this.stack['MW_LDAP_BIND_DN']!,
        MW_LDAP_BIND_PASSWORD: this.stack['MW_LDAP_BIND_PASSWORD']!,
        MW_LDAP_BASE_DN: this.stack['MW_LDAP_BASE_DN']!,
        MW_EXCHANGE_SITES: this.site,
        // Runs only on demand unless a test asks for continuous delta imports.
        MW_EXCHANGE_DELTA_INTERVAL_MS: '0',
      });
    }
    if (service === 'nt4-connector') {
      Object.assign(base, {
        MW_NT4_DOMAIN: this.stack['MW_SAMBA_DOMAIN']!,
        MW_NT4_HOST: this.stack['MW_SAMBA_HOST']!,
        MW_NT4_PORT: this.stack['MW_SAMBA_PORT']!,
        MW_NT4_ADMIN_USER: this.stack['MW_SAMBA_ADMIN_USER']!,
        MW_NT4_ADMIN_PASSWORD: this.stack['MW_SAMBA_ADMIN_PASSWORD']!,
        MW_NT4_CLIENT_CONF: this.stack['MW_SAMBA_CLIENT_CONF']!,
        MW_NT4_IMPORT_INTERVAL_MS: '0',
        MW_NT4_PASSWORD_KEYS: JSON.stringify([this.nt4PasswordKey]),
      });
    }
    if (service === 'password-service') {
      const { kid, publicKeyPem } = this.nt4PasswordKey;
      Object.assign(base, {
        MW_PASSWORD_CONNECTORS: JSON.stringify([{ connector: this.nt4Connector, domain: this.stack['MW_SAMBA_DOMAIN']!, kid, publicKeyPem }]),
      });
    }
    return { ...base, ...overrides };
  }

  async start(service: ServiceName, overrides: Record<string, string> = {}): Promise<ServiceProcess> {
    const process = new ServiceProcess({ name: service, env: await this.env(service, overrides) }).start();
    this.processes[service] = process;
    await process.waitReady(this.ports[service]!);
    return process;
  }

  url(service: ServiceName, path: string): string {
    return `http://127.0.0.1:${this.ports[service]}${path}`;
  }

  async json<T>(service: ServiceName, path: string, init?: { method: 'POST'; body: unknown }): Promise<{ status: number; body: T }> {
    const res = await fetch(this.url(service, path), {
      method: init?.method ?? 'GET',
      headers: { authorization: `Bearer ${await this.token()}`, ...(init ? { 'content-type': 'application/json' } : {}) },
      body: init ? JSON.stringify(init.body) : null,
      signal: AbortSignal.timeout(15_000),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  /** Creates this pipeline's Exchange site and adds recipients, each `[cn, attributes]`. */
  async addRecipients(entries: ReadonlyArray<readonly [string, Record<string, string | string[] | Buffer>]>): Promise<string[]> {
    const client = await this.ldap();
    const base = this.stack['MW_LDAP_BASE_DN']!;
    const site = `ou=${this.site},${base}`;
    const recipients = `cn=Recipients,${site}`;
    try {
      for (const [dn, attrs] of [
        [site, { objectClass: 'organizationalUnit', ou: this.site }],
        [recipients, { objectClass: 'ex55Container', cn: 'Recipients' }],
      ] as const) {
        await client.add(dn, attrs).catch((e: Error) => {
          if (e.name !== 'AlreadyExistsError') throw e;
        });
      }
      const dns: string[] = [];
      for (const [cn, attrs] of entries) {
        const dn = `cn=${cn},${recipients}`;
        await client.add(dn, Object.entries(attrs).map(([type, v]) => new Attribute({ type, values: (Array.isArray(v) ? v : [v]) as string[] | Buffer[] })));
        dns.push(dn);
      }
      return dns;
    } finally {
      await client.unbind();
    }
  }

  async ldap(): Promise<Client> {
    const client = new Client({ url: this.stack['MW_LDAP_URL']!, timeout: 30_000, connectTimeout: 10_000 });
    await client.bind(this.stack['MW_LDAP_BIND_DN']!, this.stack['MW_LDAP_BIND_PASSWORD']!);
    return client;
  }

  async fullImport(step: 'full-import' | 'delta-import' = 'full-import'): Promise<{ status: string; step: string; counters: Record<string, number>; deletesWithheld: number; message: string | null }> {
    const started = await this.json<{ runId: string }>('exchange-connector', '/api/v1/runs', { method: 'POST', body: { step, partition: this.site } });
    expect(started.status).toBe(202);
    return waitFor(
      'the full import run to finish',
      async () => {
        const run = await this.json<{ status: string; step: string; counters: Record<string, number>; deletesWithheld: number; message: string | null }>(
          'exchange-connector',
          `/api/v1/runs/${started.body.runId}`,
        );
        return run.body.status === 'running' ? undefined : run.body;
      },
      120_000,
      250,
    );
  }

  spans(service: ServiceName): SpanRecord[] {
    const file = join(this.traceDir, `${service}.jsonl`);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as SpanRecord);
  }

  /** Stops every process, removes the site from the directory and drops the schemas. */
  async dispose(): Promise<void> {
    for (const p of Object.values(this.processes)) await p?.stop().catch(() => p.kill());
    const client = await this.ldap().catch(() => undefined);
    if (client) {
      const base = `ou=${this.site},${this.stack['MW_LDAP_BASE_DN']}`;
      const { searchEntries } = await client.search(base, { scope: 'sub', attributes: ['1.1'] }).catch(() => ({ searchEntries: [] }));
      for (const e of searchEntries.map((x) => x.dn).sort((a, b) => b.length - a.length)) await client.del(e).catch(() => undefined);
      await client.unbind();
    }
    for (const s of ['exchange-connector', 'join-engine', 'projection-service', 'nt4-connector', 'password-service'] as const) {
      await this.admin.query(`DROP SCHEMA IF EXISTS "${this.schema(s)}" CASCADE`);
    }
    await this.admin.end();
  }
}

/** The binary SID of account `rid` in the stand-in NT4 domain (what Assoc-NT-Account holds). */
export function sidBytes(rid: number): Buffer {
  return sidFromString(accountSid(stackEnv()['MW_SAMBA_DOMAIN_SID']!, rid));
}

export function mailbox(alias: string, rid: number, extra: Record<string, string> = {}): readonly [string, Record<string, string | string[] | Buffer>] {
  return [
    alias,
    {
      objectClass: ['top', 'person', 'organizationalPerson', 'ex55Mailbox'],
      cn: `Display ${alias}`,
      rdn: alias,
      uid: alias,
      sn: alias,
      mail: `${alias}@contoso.com`,
      'Assoc-NT-Account': sidBytes(rid),
      ...extra,
    },
  ] as const;
}

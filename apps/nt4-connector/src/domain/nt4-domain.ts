import type { ConnectionTestResult, Connector, CsImage, ExportOperation, ImportSink } from '@metaweave/connector-sdk';
import { SamrBridge, SamrError, groupToCsImage, userToCsImage, type SamrConnectOptions, type SamrDomain } from '@metaweave/samr';
import { Nt4Exporter, toConnectorError } from './nt4-export';

export interface Nt4DomainOptions {
  readonly name: string;
  readonly connect: SamrConnectOptions;
  readonly batchSize?: number;
  readonly logger?: { debug(o: object, m: string): void; info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };
}

/**
 * One Windows NT 4.0 domain as a connector, over MS-SAMR through Samba's client library: the fixed
 * schema (users and global groups), full import (the SAM keeps no change log) and export. The
 * domain is the partition. Protocol code only; the run driver, export applier and the domain
 * lease do the rest (every call here runs under the domain's lease).
 */
export class Nt4Domain implements Connector {
  readonly capabilities;
  private bridge?: SamrBridge;
  private domain?: Promise<SamrDomain>;

  constructor(private readonly o: Nt4DomainOptions) {
    this.capabilities = {
      fullImport: { fullImport: (p: string, sink: ImportSink) => this.fullImport(p, sink) },
      export: { apply: (p: string, op: ExportOperation) => this.export(p, op) },
    } as const;
  }

  get name(): string {
    return this.o.name;
  }

  partitions(): readonly string[] {
    return [this.o.connect.domain.toUpperCase()];
  }

  /** The domain's SAMR connection, opened once and kept (the bridge re-establishes it). */
  async samr(): Promise<SamrDomain> {
    if (!this.domain) {
      this.domain = (async () => {
        this.bridge ??= await SamrBridge.start({ ...(this.o.logger ? { logger: this.o.logger } : {}) });
        return this.bridge.connect(this.o.connect);
      })();
      this.domain.catch(() => (this.domain = undefined));
    }
    return this.domain;
  }

  async test(): Promise<ConnectionTestResult> {
    try {
      const d = await this.samr();
      return { reachable: true, canRead: true, canWrite: true, detail: `connected to ${d.description.domain} (${d.description.domainSid}) on ${this.o.connect.host}` };
    } catch (error) {
      return { reachable: false, canRead: false, canWrite: false, detail: (error as Error).message };
    }
  }

  async dispose(): Promise<void> {
    await this.bridge?.close();
  }

  private async export(partition: string, op: ExportOperation): Promise<CsImage | null> {
    let d: SamrDomain;
    try {
      d = await this.samr();
    } catch (error) {
      throw toConnectorError(error, `${op.op} of ${op.dn}`);
    }
    return new Nt4Exporter(d, partition).apply(op);
  }

  private async fullImport(partition: string, sink: ImportSink): Promise<{ watermark: null }> {
    const d = await this.samr();
    const ctx = { domain: partition, domainSid: d.description.domainSid };
    const size = this.o.batchSize ?? 500;
    // EnumDomainUsers, not QueryDisplayInfo: Samba serves display information from a cached
    // snapshot that may miss recent changes (libs/samr README).
    const users = await d.enumerateUsers();
    // Read the next batch while the previous one is staged: the bridge reads, PostgreSQL writes.
    for await (const batch of prefetched(users, size, (slice) => d.getUsers(slice.map((u) => u.rid)))) {
      const images: CsImage[] = [];
      for (const item of batch) {
        if (item.ok) images.push(userToCsImage(item.value, ctx));
        else if (!(item.error instanceof SamrError && item.error.status === 'NO_SUCH_USER')) {
          sink.objectError({ object: `${partition}\\rid ${item.rid}`, type: 'read-error', message: item.error.message });
        }
        // NO_SUCH_USER: deleted between listing and reading — absent, like any deleted account.
      }
      await sink.page(images);
    }
    const groups = await d.listGroups();
    for (let i = 0; i < groups.length; i += size) {
      const batch = await d.getGroups(groups.slice(i, i + size).map((g) => g.rid));
      const images: CsImage[] = [];
      for (const item of batch) {
        if (item.ok) images.push(groupToCsImage(item.value, ctx));
        else if (!(item.error instanceof SamrError && item.error.status === 'NO_SUCH_GROUP')) {
          sink.objectError({ object: `${partition}\\rid ${item.rid}`, type: 'read-error', message: item.error.message });
        }
      }
      await sink.page(images);
    }
    return { watermark: null };
  }
}

/** Yields `read(batch)` for each batch of `items`, with the read of the next batch already under way. */
async function* prefetched<T, R>(items: readonly T[], size: number, read: (batch: readonly T[]) => Promise<R>): AsyncGenerator<R> {
  const start = (i: number) => {
    const p = read(items.slice(i, i + size));
    p.catch(() => undefined); // awaited below; not an unhandled rejection while the consumer stages
    return p;
  };
  let next = items.length > 0 ? start(0) : null;
  for (let i = 0; next; i += size) {
    const current = next;
    next = i + size < items.length ? start(i + size) : null;
    yield await current;
  }
}

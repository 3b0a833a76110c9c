import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { diffObject, fullImportDeletes, type CsChange, type CsImage, type StoredCsObject } from '@metaweave/connector-sdk';
import { EnvelopeFactory, TOPICS, csObjectKey } from '@metaweave/contracts';
import { enqueueOutbox } from '@metaweave/messaging';
import { LOGGER, type Logger } from '@metaweave/platform';
import { Client } from 'ldapts';
import { DataSource, type EntityManager } from 'typeorm';
import { CONFIG, SERVICE_NAME, type ExchangeConfig } from '../config';
import { BINARY_ATTRIBUTES, MalformedEntry, toCsImage, type LdapEntry } from './entry-mapping';

export interface RunCounters {
  stageAdd: number;
  stageUpdate: number;
  stageRename: number;
  stageDelete: number;
  stageNoChange: number;
  stageFailure: number;
}

export interface ObjectError {
  readonly dn: string;
  readonly error: string;
}

export class RunAlreadyInProgress extends Error {
  readonly retriable = true;
  constructor(partition: string) {
    super(`a run is already in progress on partition ${partition}`);
    this.name = 'RunAlreadyInProgress';
  }
}

const RECIPIENT_FILTER = '(|(objectClass=ex55Mailbox)(objectClass=Remote-Address)(objectClass=groupOfNames))';
const PAGE_SIZE = 500;
const tracer = trace.getTracer('exchange-connector');

/**
 * Full import of one partition (Exchange site): read every recipient, diff against the connector
 * space, stage the changes (CS rows and CS change events in one transaction per page, through the
 * outbox), then stage deletes for what was not seen — only if the whole read completed without
 * errors. One run per partition at a time (advisory lock).
 */
@Injectable()
export class FullImport {
  private readonly envelopes = new EnvelopeFactory({ source: SERVICE_NAME });

  constructor(
    @Inject(CONFIG) private readonly config: ExchangeConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly db: DataSource,
  ) {}

  /** Registers the run and starts it in the background; returns its id at once. */
  async start(partition: string): Promise<string> {
    const lock = this.db.createQueryRunner();
    await lock.connect();
    const [{ locked }] = await lock.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [`${this.config.connector}/${partition}`]);
    if (!locked) {
      await lock.release();
      throw new RunAlreadyInProgress(partition);
    }
    const runId = randomUUID();
    await this.db.query(`INSERT INTO run (id, connector, partition, step, status) VALUES ($1, $2, $3, 'full-import', 'running')`, [
      runId,
      this.config.connector,
      partition,
    ]);
    void tracer
      .startActiveSpan('full-import', { attributes: { 'mw.connector': this.config.connector, 'mw.partition': partition, 'mw.run.id': runId } }, (span) =>
        this.run(runId, partition, span).finally(() => span.end()),
      )
      .finally(async () => {
        await lock.query(`SELECT pg_advisory_unlock(hashtext($1))`, [`${this.config.connector}/${partition}`]).catch(() => undefined);
        await lock.release();
      });
    return runId;
  }

  private async run(runId: string, partition: string, span: Span): Promise<void> {
    const counters: RunCounters = { stageAdd: 0, stageUpdate: 0, stageRename: 0, stageDelete: 0, stageNoChange: 0, stageFailure: 0 };
    const errors: ObjectError[] = [];
    const seen = new Set<string>();
    let readError: string | null = null;
    const base = `ou=${partition},${this.config.ldap.baseDn}`;
    const client = new Client({ url: this.config.ldap.url, timeout: 60_000, connectTimeout: 10_000 });
    try {
      await client.bind(this.config.ldap.bindDn, this.config.ldap.bindPassword);
      const pages = client.searchPaginated(base, {
        scope: 'sub',
        filter: RECIPIENT_FILTER,
        attributes: ['*', 'entryUUID'],
        explicitBufferAttributes: [...BINARY_ATTRIBUTES],
        paged: { pageSize: PAGE_SIZE },
      });
      for await (const page of pages) {
        const images: CsImage[] = [];
        for (const entry of page.searchEntries) {
          try {
            const image = toCsImage(entry as LdapEntry, partition);
            seen.add(image.anchor);
            images.push(image);
          } catch (error) {
            if (!(error instanceof MalformedEntry)) throw error;
            counters.stageFailure++;
            errors.push({ dn: error.dn, error: error.message });
          }
        }
        await this.stagePage(runId, partition, images, counters);
      }
    } catch (error) {
      readError = describeLdapError(error, this.config.ldap.url, base);
      this.logger.error({ runId, partition, error: readError }, 'full import read failed; deletes withheld');
    } finally {
      await client.unbind().catch(() => undefined);
    }

    const completedCleanly = readError === null && errors.length === 0;
    const stored = await this.partitionObjects(partition);
    const { deletes, withheld } = fullImportDeletes(stored, seen, completedCleanly);
    await this.db.transaction((tx) => this.stage(tx, runId, partition, deletes, counters));

    const status = readError ? 'failed' : errors.length > 0 ? 'completed-with-errors' : 'completed';
    await this.db.query(
      `UPDATE run SET status = $2, finished_at = now(), counters = $3, deletes_withheld = $4, errors = $5, message = $6 WHERE id = $1`,
      [runId, status, JSON.stringify(counters), withheld, JSON.stringify(errors.slice(0, 1000)), readError],
    );
    span.setAttributes({ 'mw.run.status': status, 'mw.run.deletes_withheld': withheld });
    if (readError) span.setStatus({ code: SpanStatusCode.ERROR, message: readError });
    this.logger.info({ runId, partition, status, counters, deletesWithheld: withheld }, 'full import finished');
  }

  private async stagePage(runId: string, partition: string, images: CsImage[], counters: RunCounters): Promise<void> {
    if (images.length === 0) return;
    await this.db.transaction(async (tx) => {
      const rows: StoredRow[] = await tx.query(`SELECT * FROM cs_object WHERE anchor = ANY($1) FOR UPDATE`, [images.map((i) => i.anchor)]);
      const stored = new Map(rows.map((r) => [r.anchor, fromRow(r)]));
      const changes: CsChange[] = [];
      for (const image of images) {
        const change = diffObject(stored.get(image.anchor), image);
        if (change) changes.push(change);
        else counters.stageNoChange++;
      }
      await this.stage(tx, runId, partition, changes, counters);
    });
  }

  /** Writes the CS rows and enqueues one CS change event per object, each in a trace of its own. */
  private async stage(tx: EntityManager, runId: string, partition: string, changes: readonly CsChange[], counters: RunCounters): Promise<void> {
    const topic = this.config.kafka.topicPrefix + TOPICS.csChanges.name;
    const runSpan = trace.getActiveSpan()?.spanContext();
    for (const change of changes) {
      const i = change.image;
      await tx.query(
        `INSERT INTO cs_object (anchor, partition, dn, object_type, attributes, version, deleted, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now())
         ON CONFLICT (anchor) DO UPDATE SET partition = EXCLUDED.partition, dn = EXCLUDED.dn, object_type = EXCLUDED.object_type,
           attributes = EXCLUDED.attributes, version = EXCLUDED.version, deleted = EXCLUDED.deleted, updated_at = now()`,
        [i.anchor, partition, i.dn, i.objectType, JSON.stringify(i.attributes), change.version, change.change === 'delete'],
      );
      const message = this.envelopes.create({
        type: 'cs.object.changed',
        schemaVersion: 1,
        data: {
          connector: this.config.connector,
          partition,
          anchor: i.anchor,
          objectType: i.objectType,
          dn: i.dn,
          previousDn: change.previousDn,
          change: change.change,
          attributes: i.attributes,
          delta: change.delta,
          csVersion: change.version,
        },
      });
      await tracer.startActiveSpan(
        `cs.${change.change}`,
        { root: true, links: runSpan ? [{ context: runSpan }] : [], attributes: { 'mw.connector': this.config.connector, 'mw.anchor': i.anchor, 'mw.run.id': runId } },
        async (span) => {
          try {
            await enqueueOutbox((sql, params) => tx.query(sql, params), this.config.database.schema, [
              { topic, key: csObjectKey(this.config.connector, i.anchor), message },
            ]);
          } finally {
            span.end();
          }
        },
      );
      counters[COUNTER[change.change]]++;
    }
  }

  private async partitionObjects(partition: string): Promise<StoredCsObject[]> {
    const rows: StoredRow[] = await this.db.query(`SELECT * FROM cs_object WHERE partition = $1 AND NOT deleted`, [partition]);
    return rows.map(fromRow);
  }
}

const COUNTER: Record<CsChange['change'], keyof RunCounters> = {
  add: 'stageAdd',
  update: 'stageUpdate',
  rename: 'stageRename',
  delete: 'stageDelete',
};

interface StoredRow {
  anchor: string;
  partition: string;
  dn: string;
  object_type: string;
  attributes: StoredCsObject['attributes'];
  version: number;
  deleted: boolean;
}

function fromRow(r: StoredRow): StoredCsObject {
  return { anchor: r.anchor, partition: r.partition, dn: r.dn, objectType: r.object_type, attributes: r.attributes, version: r.version, deleted: r.deleted };
}

/** An actionable message for a failed read; never includes the bind password. */
export function describeLdapError(error: unknown, url: string, base: string): string {
  const e = error as { code?: unknown; message?: string; name?: string };
  if (e.code === 'ECONNREFUSED' || e.code === 'ETIMEDOUT' || e.code === 'EHOSTUNREACH') {
    return `Exchange directory unreachable at ${url} (${String(e.code)}): check the server and MW_LDAP_URL`;
  }
  if (e.name === 'InvalidCredentialsError') return `bind refused by ${url}: check MW_LDAP_BIND_DN and MW_LDAP_BIND_PASSWORD`;
  if (e.name === 'NoSuchObjectError') return `partition base ${base} does not exist on ${url}: check MW_EXCHANGE_SITES`;
  return `reading ${base} from ${url} failed: ${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
}

import type { AttributeDelta, Attributes } from '@metaweave/contracts';
import type { CsImage } from './cs-diff';

/**
 * The connector SPI, in the ConnId style: a lifecycle plus opt-in capabilities. A connector is
 * protocol code only; the run-step driver owns the connector space, diffing, watermarks, events
 * and run records, so every connector gets the same semantics (MIIS run steps, invariants 1–4).
 */
export interface Connector {
  /** Connector instance name, e.g. `exchange` or `nt4-contoso`. */
  readonly name: string;
  readonly capabilities: ConnectorCapabilities;
  /** Partitions this instance serves (Exchange sites, NT4 domains). */
  partitions(): readonly string[];
  /** Checks the connection and reports what the configured account may do. */
  test(): Promise<ConnectionTestResult>;
  dispose(): Promise<void>;
}

export interface ConnectorCapabilities {
  readonly fullImport?: FullImportCapability;
  readonly deltaImport?: DeltaImportCapability;
  readonly export?: ExportCapability;
  readonly schema?: SchemaCapability;
}

export interface ConnectionTestResult {
  readonly reachable: boolean;
  readonly canRead: boolean;
  readonly canWrite: boolean;
  readonly detail: string;
}

/** Where an import puts what it reads. Per-object problems are reported, not thrown. */
export interface ImportSink {
  /** A page of objects as the directory returned them (full image each). */
  page(images: readonly CsImage[]): Promise<void>;
  /** An object that could not be read or mapped; the run goes on, deletes are withheld. */
  objectError(error: ObjectError): void;
}

export interface ObjectError {
  /** DN or anchor of the object, as far as it is known. */
  readonly object: string;
  /** MIIS-style error type, e.g. `malformed-attribute`, `missing-anchor`. */
  readonly type: string;
  readonly message: string;
}

export interface FullImportCapability {
  /**
   * Reads every in-scope object of the partition into the sink. Throws when the read fails as a
   * whole (unreachable, connection dropped mid-page...): the driver then withholds every delete.
   * Returns the watermark a following delta import starts from, taken before the read began.
   */
  fullImport(partition: string, sink: ImportSink, signal: AbortSignal): Promise<{ readonly watermark: string | null }>;
}

/** One change a delta read found. The driver diffs images against the connector space anyway. */
export type DeltaChange =
  | { readonly kind: 'upsert'; readonly image: CsImage }
  | { readonly kind: 'delete'; readonly anchor: string | null; readonly dn: string | null };

export type DeltaResult =
  | { readonly outcome: 'changes'; readonly changes: readonly DeltaChange[]; readonly watermark: string; readonly errors?: readonly ObjectError[] }
  /** The watermark can no longer be trusted (log purged, other server, tombstones expired). */
  | { readonly outcome: 'full-import-required'; readonly reason: string };

export interface DeltaImportCapability {
  /** Name of the change-detection strategy, e.g. `accesslog` or `usn`. */
  readonly strategy: string;
  deltaImport(partition: string, watermark: string, signal: AbortSignal): Promise<DeltaResult>;
}

export type ExportOperation =
  | { readonly op: 'add'; readonly dn: string; readonly objectType: string; readonly attributes: Attributes }
  | { readonly op: 'update'; readonly anchor: string; readonly dn: string; readonly objectType: string; readonly changes: readonly AttributeDelta[] }
  | { readonly op: 'rename'; readonly anchor: string; readonly dn: string; readonly newDn: string }
  | { readonly op: 'delete'; readonly anchor: string; readonly dn: string };

export interface ExportCapability {
  /**
   * Applies one operation and returns the object as read back from the directory afterwards (the
   * confirming import; null after a delete). Throws ConnectorError naming what was refused.
   */
  apply(partition: string, operation: ExportOperation): Promise<CsImage | null>;
}

export interface SchemaAttribute {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly syntax: 'string' | 'integer' | 'boolean' | 'binary' | 'reference' | 'time';
  readonly multiValued: boolean;
}

export interface SchemaObjectType {
  readonly name: string;
  readonly attributes: readonly string[];
  readonly mandatory: readonly string[];
}

export interface ConnectorSchema {
  readonly objectTypes: readonly SchemaObjectType[];
  readonly attributes: readonly SchemaAttribute[];
}

export interface SchemaCapability {
  discover(): Promise<ConnectorSchema>;
}

/**
 * Shapes of the public REST APIs as the console reads them: the projection service's query API
 * (`GET /api/v1/openapi.json` of projection-service) and the password service's API
 * (`GET /api/v1/openapi.json` of password-service). Event payload types come from libs/contracts
 * (type-only imports: nothing of the services is bundled).
 */
import type { AttributeValue, MvAttributeLineage, MvConnectorLink, RunObjectError, RunStatus, RunStepName } from '@metaweave/contracts';

export type { AttributeValue, MvAttributeLineage, MvConnectorLink, RunObjectError, RunStatus, RunStepName };

export interface MvObject {
  readonly id: string;
  readonly objectType: string;
  readonly version: number;
  readonly deleted: boolean;
  readonly attributes: Readonly<Record<string, readonly AttributeValue[]>>;
  readonly connectors: readonly MvConnectorLink[];
  readonly lineage: readonly MvAttributeLineage[];
  readonly rulesVersion: string;
  readonly reason: string;
  readonly updatedAt: string;
}

export interface MvHistoryEntry {
  readonly eventId: string;
  readonly version: number;
  readonly change: string;
  readonly correlationId: string | null;
  readonly occurredAt: string;
}

export interface MvObjectDetail extends MvObject {
  readonly attributeLineage: Readonly<Record<string, readonly MvAttributeLineage[]>>;
  readonly history: readonly MvHistoryEntry[];
}

export interface SearchResult {
  readonly count: number;
  readonly offset: number;
  readonly limit: number;
  readonly nextOffset: number | null;
  readonly objects: readonly MvObject[];
}

export interface SearchQuery {
  readonly type?: string;
  /** Exact attribute values: `[name, value]`; a SID string also matches a binary SID. */
  readonly filters: readonly (readonly [string, string])[];
  readonly limit?: number;
  readonly offset?: number;
}

export interface ConnectorObjectLink {
  readonly connector: string;
  readonly anchor: string;
  readonly dn: string;
  readonly state: string;
  readonly mvObject: MvObject;
}

export interface Run {
  readonly runId: string;
  readonly connector: string;
  readonly partition: string;
  readonly step: RunStepName;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly counters: Readonly<Record<string, number>>;
  readonly errorCount: number;
  readonly message: string | null;
}

export interface RunDetail extends Run {
  readonly errors: readonly RunObjectError[];
}

export interface RunList {
  readonly count: number;
  readonly offset: number;
  readonly limit: number;
  readonly runs: readonly Run[];
}

export interface RunQuery {
  readonly connector?: string;
  readonly partition?: string;
  readonly step?: RunStepName;
  readonly status?: RunStatus;
  readonly limit?: number;
  readonly offset?: number;
}

export type StartableStep = 'full-import' | 'delta-import' | 'export';

export interface StartRun {
  readonly connector: string;
  readonly partition: string;
  readonly step: StartableStep;
}

export interface StartedRun {
  readonly runId: string | null;
  readonly step: string;
  readonly partition: string;
}

export interface HeldDelete extends Run {
  readonly id: string;
  /** How many deletes wait for approval (the run's `heldDeletes` counter). */
  readonly deletes: number | null;
}

export interface HeldDeleteList {
  readonly count: number;
  readonly heldDeletes: readonly HeldDelete[];
}

export interface ExportOutcome {
  readonly exportId: string;
  readonly connector: string;
  readonly partition: string;
  readonly op: string;
  readonly anchor: string;
  readonly dn: string | null;
  readonly status: string;
  readonly pending: boolean;
  readonly error: { readonly type?: string; readonly message?: string; readonly retriable?: boolean } | null;
  readonly attempt: number;
  readonly at: string;
}

export interface ExportList {
  readonly count: number;
  readonly exports: readonly ExportOutcome[];
}

/** The join engine's preview answer is relayed as is; the console shows whatever it holds. */
export type PreviewResult = unknown;

export type PasswordResult = string;

export interface PasswordTarget {
  readonly connector: string;
  readonly domain: string;
  readonly anchor: string;
  readonly accountName: string;
  readonly commandId: string;
  readonly expiresAt: string;
  readonly result: 'pending' | PasswordResult;
  readonly message: string | null;
  readonly completedAt: string | null;
}

export interface PasswordOperation {
  readonly operationId: string;
  readonly op: 'set' | 'change';
  readonly status: 'pending' | 'succeeded' | 'failed' | 'partially-succeeded';
  readonly mvObjectId: string | null;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly forceChangeAtNextLogon?: boolean;
  readonly unlock?: boolean;
  readonly targets: readonly PasswordTarget[];
}

export interface SetPassword {
  readonly newPassword: string;
  readonly forceChangeAtNextLogon: boolean;
  readonly unlock: boolean;
  readonly targets?: readonly { readonly connector: string; readonly anchor: string }[];
}

export interface ChangePassword {
  readonly oldPassword: string;
  readonly newPassword: string;
}

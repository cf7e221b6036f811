import type { AuditStore } from './audit-store.ts';
import type { DocumentStore } from './document-store.ts';
import type { EventStore } from './event-store.ts';
import type { JobDocumentStore } from './job-document-store.ts';
import type { JobStore } from './job-store.ts';
import type { KeyStore } from './key-store.ts';
import type { MetricsStore } from './metrics-store.ts';
import type { TenantStore } from './tenant-store.ts';
import type { UploadStore } from './upload-store.ts';
import type { WorkerStore } from './worker-store.ts';

// The store's record types and ports, from one place: callers import from here.
export type * from './audit-store.ts';
export type * from './document-store.ts';
export type * from './event-store.ts';
export type * from './job-document-store.ts';
export type * from './job-store.ts';
export type * from './key-store.ts';
export type * from './metrics-store.ts';
export type * from './tenant-store.ts';
export type * from './upload-store.ts';
export type * from './worker-store.ts';
export { TERMINAL_DOCUMENT_STATUSES, UNFINISHED_DOCUMENT_STATUSES } from './job-document-store.ts';
export { DEFAULT_TENANT, JOB_STATUSES, JOB_TOTAL_CAP, TERMINAL_JOB_STATUSES, UNFINISHED_JOB_STATUSES } from './job-store.ts';

/**
 * The records of record (DESIGN.md §5), one port per record type. `Store` composes them for the
 * callers that take the whole; each part has its own contract (test/conformance/store-*.ts),
 * and test/conformance/store.ts runs them all against an adapter.
 */
export interface Store extends JobStore, JobDocumentStore, DocumentStore, EventStore, KeyStore, WorkerStore, UploadStore, AuditStore, TenantStore, MetricsStore {
  readonly name: string;
  /** Releases what the store holds; the database it runs on belongs to whoever opened it. */
  close(): Promise<void>;
}

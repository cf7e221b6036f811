import type { JsonValue } from '../json.ts';

/** One thing someone did, as the audit log keeps it. */
export interface AuditEntry {
  /** Sortable by time: entries are listed in this order. */
  id: string;
  /** Epoch ms. */
  at: number;
  /** The tenant the actor acted as. */
  tenantId: string;
  /** The API key id, `jwt:<tenant>:<sub>`, `local` (auth off), or `cli` (a ream command on the host). */
  subject: string;
  role: string;
  /** The client's address, when it came over HTTP. */
  ip: string | null;
  /** What was done: `job.create`, `job.cancel`, `key.revoke`, `worker.drain`, `access.denied`, … */
  action: string;
  /** What it was done to (a job, document, upload, key or worker id), when there is one. */
  target: string | null;
  /** The HTTP status it was answered with (0 for actions outside HTTP). */
  status: number;
  details?: JsonValue;
}

export interface AuditQuery {
  /** Only this tenant's entries. */
  tenantId?: string;
  action?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  /** Entries after this id (the last of the previous page). */
  afterId?: string;
  limit: number;
}

/**
 * The audit log: append-only (no port member changes or removes an entry), read by admins.
 * Contract: test/conformance/store-audit.ts.
 */
export interface AuditStore {
  /** Appends an entry; answers its id. */
  appendAudit(entry: Omit<AuditEntry, 'id'>): Promise<string>;
  /** Entries matching `query`, oldest first. */
  listAudit(query: AuditQuery): Promise<AuditEntry[]>;
}

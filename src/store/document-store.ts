import { createHash } from 'node:crypto';

/** The id of the tenant's document of this content (sha256, hex): the same bytes are one document per tenant. */
export function documentIdOf(tenantId: string, sha256: string): string {
  return `doc_${createHash('sha256').update(`${tenantId}:${sha256}`).digest('hex').slice(0, 32)}`;
}

/** One stored file, content-addressed: unique per (tenantId, sha256). */
export interface DocumentRecord {
  id: string;
  tenantId: string;
  sha256: string;
  /** The file name it was first stored under (display only; never a filesystem path to open). */
  name: string;
  size: number;
  /** e.g. `application/pdf`, `text/plain`, `text/markdown`. */
  mediaType: string;
  createdAt: number;
  /** Epoch ms; only on a document deleted while finished jobs name it, read with `{ deleted: true }`. */
  deletedAt?: number;
}

/** What `deleteDocument` did. */
export type DocumentDeletion =
  /** Removed; `blobUnused` when no live document of any tenant has its content any more (its blob may go). */
  | { status: 'deleted'; document: DocumentRecord; blobUnused: boolean }
  /** Kept: these unfinished jobs use it (none: it was stored again after the `storedAt` asked). */
  | { status: 'in_use'; unfinishedJobIds: string[] }
  | { status: 'not_found' };

/** Documents by content. Contract: test/conformance/store-documents.ts. */
export interface DocumentStore {
  /**
   * Idempotent and race-free: inserts, or returns the existing record for (tenantId, sha256)
   * unchanged — content is stored once per tenant, whatever id or name a later put brings. A
   * deleted record of the same content comes back to life as if new (name, time of this put).
   * `releasing`: a storage reservation released in the same transaction, so no reader of the
   * tenant's held bytes sees the bytes twice or not at all.
   */
  putDocument(doc: Omit<DocumentRecord, 'createdAt' | 'deletedAt'>, now: number, releasing?: string): Promise<DocumentRecord>;
  /**
   * The record as first stored; `undefined` when there is none or it was deleted (`deleted:
   * true` answers a deleted one that finished jobs still name, with its `deletedAt`).
   */
  getDocument(id: string, options?: { deleted?: boolean }): Promise<DocumentRecord | undefined>;
  /**
   * Deletes the document unless an unfinished job uses it, each step one conditional statement,
   * so a job attaching it meanwhile either keeps it or finds it gone. No job names it: the row
   * goes. Only finished jobs do: it is marked deleted (their records reference it) and its row
   * goes with the last of them (`purgeDeletedDocuments`). With `storedAt`, only a document last
   * stored then (by the caller, nothing storing it again since) goes: else it is kept (`in_use`).
   */
  deleteDocument(id: string, now: number, storedAt?: number): Promise<DocumentDeletion>;
  /** Removes the rows of deleted documents (of these ids) no job names any more; answers how many. */
  purgeDeletedDocuments(documentIds: readonly string[]): Promise<number>;
  /**
   * Runs `fn` while no other caller holds the lock on this content (every process of the
   * deployment): storing a document and deleting one's blob hold it, so a blob is never deleted
   * while a document of the same content is being stored.
   */
  withContentLock<T>(sha256: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Drops every content lock at once, for a process that knows no other holds one (the embedded
   * owner of a data dir, at open): a crashed holder's lock would otherwise wait out its lease.
   */
  releaseContentLocks(): Promise<void>;
  /**
   * Documents no job uses, created before `before` (epoch ms), oldest first, at most `limit`:
   * those of `tenantId` when given, else of every tenant but `exceptTenants` (retention).
   */
  listUnusedDocumentsBefore(query: { before: number; limit: number; tenantId?: string; exceptTenants?: readonly string[] }): Promise<DocumentRecord[]>;
}

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
}

/** What `deleteDocument` did. */
export type DocumentDeletion =
  /** Removed; `blobUnused` when no document of any tenant has its content any more (its blob may go). */
  | { status: 'deleted'; document: DocumentRecord; blobUnused: boolean }
  /** Kept: these jobs use it. */
  | { status: 'in_use'; jobIds: string[]; unfinishedJobIds: string[] }
  | { status: 'not_found' };

/** Documents by content. Contract: test/conformance/store-documents.ts. */
export interface DocumentStore {
  /**
   * Idempotent and race-free: inserts, or returns the existing record for (tenantId, sha256)
   * unchanged — content is stored once per tenant, whatever id or name a later put brings.
   */
  putDocument(doc: Omit<DocumentRecord, 'createdAt'>, now: number): Promise<DocumentRecord>;
  /** The record as first stored; `undefined` when there is none. */
  getDocument(id: string): Promise<DocumentRecord | undefined>;
  /**
   * Removes the document unless a job uses it (any job: a job's records reference its
   * documents), in one statement, so a job attaching it meanwhile either keeps it or fails.
   */
  deleteDocument(id: string): Promise<DocumentDeletion>;
  /**
   * Documents no job uses, created before `before` (epoch ms), oldest first, at most `limit`:
   * those of `tenantId` when given, else of every tenant but `exceptTenants` (retention).
   */
  listUnusedDocumentsBefore(query: { before: number; limit: number; tenantId?: string; exceptTenants?: readonly string[] }): Promise<DocumentRecord[]>;
}

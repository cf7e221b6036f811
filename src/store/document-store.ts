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

/** Documents by content. Contract: test/conformance/store-documents.ts. */
export interface DocumentStore {
  /**
   * Idempotent and race-free: inserts, or returns the existing record for (tenantId, sha256)
   * unchanged — content is stored once per tenant, whatever id or name a later put brings.
   */
  putDocument(doc: Omit<DocumentRecord, 'createdAt'>, now: number): Promise<DocumentRecord>;
  /** The record as first stored; `undefined` when there is none. */
  getDocument(id: string): Promise<DocumentRecord | undefined>;
}

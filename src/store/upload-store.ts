import type { JsonValue } from '../json.ts';

/** What became of a finished tus upload: the stored document, or why it was refused. */
export interface UploadRecord {
  /** The tus upload id. */
  id: string;
  tenantId: string;
  status: 'stored' | 'failed';
  /** The name the client gave in `Upload-Metadata` (display only). */
  name: string;
  size: number;
  /** Epoch ms. */
  createdAt: number;
  documentId?: string;
  sha256?: string;
  mediaType?: string;
  /** Why it was refused (the HTTP problem, as JSON). */
  error?: JsonValue;
}

/** Finished tus uploads. Contract: test/conformance/store-uploads.ts. */
export interface UploadStore {
  /** Inserts or replaces the upload's record (by id). Optional fields left out read back absent, not `null`. */
  putUpload(record: UploadRecord): Promise<void>;
  /** The record as last put; `undefined` when there is none. */
  getUpload(id: string): Promise<UploadRecord | undefined>;
  /** Idempotent: `false` when there was no such record. */
  deleteUpload(id: string): Promise<boolean>;
  /** Drops records of refused uploads created before `before` (epoch ms); stored ones stay. Returns how many went. */
  deleteFailedUploadsBefore(before: number): Promise<number>;
}

import { ReamError } from '../errors.ts';
import type { UploadRecord, UploadStore } from '../store/port.ts';

/** tus ids made by @tus/server's default naming function: 16 random bytes in hex. */
export const UPLOAD_ID = /^[0-9a-f]{32}$/;

/**
 * Records of finished tus uploads, kept in the store (SQLite embedded, PostgreSQL distributed)
 * so every server instance of a deployment answers for every upload.
 */
export interface UploadRecords {
  /** The record of a finished upload; `undefined` when there is none (ids that are not tus ids are never looked up). */
  get(id: string): Promise<UploadRecord | undefined>;
  /** Inserts or replaces the record (by id). */
  put(record: UploadRecord): Promise<void>;
  /** True if there was one. */
  delete(id: string): Promise<boolean>;
  /** Drops records of refused uploads older than `before` (ms since the epoch); returns how many. */
  deleteFailedBefore(before: number): Promise<number>;
}

export function uploadRecords(store: UploadStore): UploadRecords {
  return {
    get: (id) => (UPLOAD_ID.test(id) ? store.getUpload(id) : Promise.resolve(undefined)),
    put: (record) => store.putUpload(record),
    delete: (id) => (UPLOAD_ID.test(id) ? store.deleteUpload(id) : Promise.resolve(false)),
    deleteFailedBefore: (before) => store.deleteFailedUploadsBefore(before),
  };
}

/** An upload whose bytes are not all in yet: its owner and progress. */
export interface UploadInProgress {
  tenantId: string | undefined;
  offset: number;
  /** Undefined while the length is deferred. */
  size: number | undefined;
}

/** Looks up an upload still receiving bytes (not finished): undefined if there is none. */
export type FindUploadInProgress = (id: string) => Promise<UploadInProgress | undefined>;

/**
 * The stored document of a finished upload of `tenantId`; `upload_incomplete` for one of its
 * uploads still receiving bytes; `not_found` for no upload or another tenant's (never telling
 * which); `validation_failed` for a refused one.
 */
export async function documentOfUpload(
  records: UploadRecords,
  tenantId: string,
  id: string,
  findInProgress?: FindUploadInProgress,
): Promise<{ documentId: string; name: string }> {
  const record = await records.get(id);
  if (!record && findInProgress && UPLOAD_ID.test(id)) {
    const upload = await findInProgress(id);
    if (upload && upload.tenantId === tenantId) {
      const of = upload.size === undefined ? '' : ` of ${upload.size}`;
      throw ReamError.nonRetryable('upload_incomplete', `upload ${id} has ${upload.offset}${of} bytes: finish it before a job uses it`, {
        details: { offset: upload.offset, ...(upload.size === undefined ? {} : { size: upload.size }) },
      });
    }
  }
  if (!record || record.tenantId !== tenantId) throw ReamError.nonRetryable('not_found', `no upload ${id}`);
  if (record.status !== 'stored' || record.documentId === undefined) {
    throw ReamError.nonRetryable('validation_failed', `upload ${id} is not a stored document (${record.status})`);
  }
  return { documentId: record.documentId, name: record.name };
}

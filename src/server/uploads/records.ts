import { ReamError } from '../../errors.ts';
import type { JsonValue } from '../../json.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import type { Store, UploadRecord as StoredUploadRecord } from '../../store/port.ts';
import type { Problem } from '../problem.ts';

/** What became of a finished tus upload: the stored document, or why it was refused. */
export interface UploadRecord extends Omit<StoredUploadRecord, 'error'> {
  error?: Problem;
}

/** tus ids made by @tus/server's default naming function: 16 random bytes in hex. */
export const UPLOAD_ID = /^[0-9a-f]{32}$/;

/** Where finished uploads are remembered. */
export interface UploadRecordStore {
  get(id: string): Promise<UploadRecord | undefined>;
  put(record: UploadRecord): Promise<void>;
  /** True if there was one. */
  delete(id: string): Promise<boolean>;
  /** Drops records of refused uploads older than `before` (ms since the epoch); returns how many. */
  deleteFailedBefore(before: number): Promise<number>;
}

/**
 * Upload records in the store (SQLite embedded, PostgreSQL distributed), so every server
 * instance of a deployment answers for every upload. Ids that are not tus ids are never looked up.
 */
export function storeUploadRecords(store: Store): UploadRecordStore {
  return {
    async get(id) {
      if (!UPLOAD_ID.test(id)) return undefined;
      const stored = await store.getUpload(id);
      if (!stored) return undefined;
      const { error, ...rest } = stored;
      // The store keeps the problem as JSON; it was a Problem when it was written.
      return error === undefined ? rest : { ...rest, error: error as unknown as Problem };
    },
    put(record) {
      const { error, ...rest } = record;
      return store.putUpload(error === undefined ? rest : { ...rest, error: error as unknown as JsonValue });
    },
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

/** Looks up an upload still in the tus store (not finished): undefined if there is none. */
export type FindUploadInProgress = (id: string) => Promise<UploadInProgress | undefined>;

/**
 * The stored document of a finished upload of `tenantId`; `upload_incomplete` for one of its
 * uploads still receiving bytes; `not_found` for no upload or another tenant's (never telling
 * which); `validation_failed` for a refused one.
 */
export async function documentOfUpload(
  ream: Ream,
  tenantId: string,
  id: string,
  findInProgress?: FindUploadInProgress,
): Promise<{ documentId: string; name: string }> {
  const record = await storeUploadRecords(ream.engine.ports.store).get(id);
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

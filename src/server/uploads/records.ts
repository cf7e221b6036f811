import type { JsonValue } from '../../json.ts';
import type { UploadRecord as StoredUploadRecord, UploadRecords } from '../../runtime/ream.ts';
import type { Problem } from '../problem.ts';

export { UPLOAD_ID, type FindUploadInProgress, type UploadInProgress } from '../../runtime/ream.ts';

/** What became of a finished tus upload: the stored document, or why it was refused. */
export interface UploadRecord extends Omit<StoredUploadRecord, 'error'> {
  error?: Problem;
}

/** Where finished uploads are remembered. */
export interface UploadRecordStore {
  get(id: string): Promise<UploadRecord | undefined>;
  put(record: UploadRecord): Promise<void>;
  /** True if there was one. */
  delete(id: string): Promise<boolean>;
  /** Drops records of refused uploads older than `before` (ms since the epoch); returns how many. */
  deleteFailedBefore(before: number): Promise<number>;
}

/** The ream's upload records (every server instance of a deployment sees them), with refusals as problems. */
export function storeUploadRecords(records: UploadRecords): UploadRecordStore {
  return {
    async get(id) {
      const stored = await records.get(id);
      if (!stored) return undefined;
      const { error, ...rest } = stored;
      // The store keeps the problem as JSON; it was a Problem when it was written.
      return error === undefined ? rest : { ...rest, error: error as unknown as Problem };
    },
    put(record) {
      const { error, ...rest } = record;
      return records.put(error === undefined ? rest : { ...rest, error: error as unknown as JsonValue });
    },
    delete: (id) => records.delete(id),
    deleteFailedBefore: (before) => records.deleteFailedBefore(before),
  };
}

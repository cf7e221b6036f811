import type { ReamError } from '../../errors.ts';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import { MemoryLocker } from '@tus/server';
import type { DataStore, Locker, Upload } from '@tus/utils';
import type { UploadRecordStore } from './records.ts';
import { memoryTenantUploadIndex, type TenantUploadIndex } from './tenant-uploads.ts';

/** Where tus uploads live: the partial bytes, the locks on them, and the records of finished ones. */
export interface TusStorage {
  /** A tus data store that can also stream an upload's bytes back (FileStore and S3Store can). */
  datastore: DataStore & { read(id: string): Readable | Promise<Readable> };
  locker: Locker;
  records: UploadRecordStore;
  /** The ids of the uploads the datastore holds (unfinished ones, and finished ones not yet removed). */
  listIds(): AsyncIterable<string>;
  /** Which uploads each tenant has (kept by the upload routes), so a quota check reads only the tenant's own. */
  tenantUploads: TenantUploadIndex;
  /** Ends the connections the storage opened (the caller's own `records` stay open). */
  close(): Promise<void>;
  /**
   * An upload's length, metadata and creation date, its offset not read: where the offset costs
   * requests (S3 lists the upload's parts), a count of declared lengths skips them. Default: `getUpload`.
   */
  readInfo?(id: string): Promise<Upload>;
  /** The datastore's own failures with a code (an S3 endpoint that does not answer: `unavailable`); default: as they are. */
  failure?(error: unknown): ReamError;
}

/** One server: partial files under `<dir>/files`, locks in memory, records in the store. */
export function embeddedTusStorage(dir: string, expiryMs: number, records: UploadRecordStore): TusStorage {
  const datastore = new FileStore({ directory: join(dir, 'files'), expirationPeriodInMilliseconds: expiryMs });
  return {
    datastore,
    locker: new MemoryLocker(),
    records,
    tenantUploads: memoryTenantUploadIndex(),
    async *listIds() {
      // The file store keeps one `<id>.json` beside each upload's bytes; its config store lists them.
      yield* (await datastore.configstore.list?.()) ?? [];
    },
    close: () => Promise.resolve(),
  };
}

import type { EngineDeps } from './engine.ts';

/** The adapters one deployment wires into the engine (embedded or distributed), and their lifecycle. */
export interface Adapters {
  deps: Omit<EngineDeps, 'pipelines'>;
  /**
   * Start-up after a crash. Embedded: every lease (and content lock) in the data dir belonged
   * to the dead process, so all are released at once. Distributed: other processes hold live leases, so nothing is
   * released here; a dead worker's leases expire instead.
   */
  releaseLeases(): Promise<number>;
  /** Embedded only: gives back the room deleted records and blobs left (see {@link CompactReport}). */
  compact?(): Promise<CompactReport>;
  /** Warnings about the deployment to print at start (e.g. Redis without AOF). */
  warnings: string[];
  close(): Promise<void>;
}

/** What `Ream.compact` did to a data dir. */
export interface CompactReport {
  /** Bytes of the database (its file and its write-ahead log) before and after. */
  databaseBytesBefore: number;
  databaseBytesAfter: number;
  /** Empty blob folders removed (left by deletes of older versions). */
  emptyFolders: number;
  /** Temporary files of puts a killed process never finished, removed. */
  tempFiles: number;
}

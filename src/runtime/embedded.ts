import { statSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { SqlAnalysisStore } from '../analyzers/store/sql-analysis-store.ts';
import { FsBlobStore } from '../blobs/fs-blob-store.ts';
import { MemoryEventBus } from '../events/memory-event-bus.ts';
import { createFormats } from '../formats/registry.ts';
import { SqliteQueue } from '../queue/sqlite-queue.ts';
import { SqliteSearch } from '../search/sqlite-search.ts';
import { openSqliteDatabase, type SqliteDatabase } from '../sql/sqlite-database.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import type { Adapters, CompactReport } from './adapters.ts';
import { damagedDatabase } from './data-dir-lock.ts';
import { createThreadPool } from './thread-pool.ts';

export interface EmbeddedSettings {
  dataDir: string;
  threads: number;
  taskTimeoutMs: number;
  maxMemoryMb: number;
}


/**
 * The embedded default: one SQLite file (`<dataDir>/ream.db`) for records, queue and search, a
 * sha256-addressed folder (`<dataDir>/blobs`) for bytes, in-process events, and a worker-thread
 * pool for parsing. Nothing to install.
 */
export async function openEmbeddedAdapters(settings: EmbeddedSettings): Promise<Adapters> {
  // The threads start first: each loads its modules while this thread opens and migrates the database.
  const pool = createThreadPool({ threads: settings.threads, taskTimeoutMs: settings.taskTimeoutMs, maxMemoryMb: settings.maxMemoryMb });
  let database: ReturnType<typeof openSqliteDatabase>;
  try {
    database = openSqliteDatabase(join(settings.dataDir, 'ream.db'));
  } catch (error) {
    await pool.destroy();
    throw damagedDatabase(error, join(settings.dataDir, 'ream.db')) ?? error;
  }
  try {
    const store = await SqliteStore.open(database);
    const queue = await SqliteQueue.open(database);
    const search = await SqliteSearch.open(database);
    const analysis = await SqlAnalysisStore.open(database.kysely, 'sqlite');
    // The data dir's lock is held: no other process's model call is in flight, and what a killed
    // one reserved of its jobs' budgets will never be settled.
    await analysis.releaseReservations();
    const bus = new MemoryEventBus();
    const blobs = new FsBlobStore(join(settings.dataDir, 'blobs'));
    return {
      deps: { store, queue, search, bus, analysis, blobs, formats: createFormats(pool) },
      compact: () => compactDataDir(database, blobs),
      // One process owns the data dir: every lease, content lock and storage reservation left is a dead process's.
      releaseLeases: async () => {
        await store.releaseContentLocks();
        await store.releaseAllStorage();
        return queue.releaseAllLeases();
      },
      warnings: [],
      async close() {
        await pool.destroy();
        await bus.close();
        await queue.close();
        await search.close();
        await store.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    await pool.destroy();
    throw damagedDatabase(error, join(settings.dataDir, 'ream.db')) ?? error;
  }
}

/**
 * Gives back the room of what was deleted. SQLite keeps the pages of deleted rows for reuse, so
 * its file never shrinks on its own: VACUUM rewrites it with only the live rows, and a TRUNCATE
 * checkpoint empties the write-ahead log. The blob folder loses its empty folders and stray temp
 * files. The data dir's lock is held by this process, so nothing else writes meanwhile.
 */
async function compactDataDir(database: SqliteDatabase, blobs: FsBlobStore): Promise<CompactReport> {
  const databaseBytesBefore = databaseBytes(database.path);
  await sql`vacuum`.execute(database.kysely);
  await sql`pragma wal_checkpoint(truncate)`.execute(database.kysely);
  const tidied = await blobs.tidy();
  return { databaseBytesBefore, databaseBytesAfter: databaseBytes(database.path), ...tidied };
}

/** The database file's bytes and its write-ahead log's. */
function databaseBytes(path: string): number {
  let bytes = 0;
  for (const file of [path, `${path}-wal`]) {
    try {
      bytes += statSync(file).size;
    } catch {
      // no write-ahead log (yet)
    }
  }
  return bytes;
}

import { migrate } from '../sql/migrate.ts';
import type { SqliteDatabase } from '../sql/sqlite-database.ts';
import { queueMigrations } from './queue-schema.ts';
import { SqlQueue } from './sql-queue.ts';

export interface SqliteQueueOptions {
  /**
   * Epoch ms now, for leases, due times and retention. Default `Date.now`. Tests pass one they
   * advance, to expire a lease without waiting it out.
   */
  clock?: () => number;
}

/**
 * The embedded queue: a `tasks` table in the data dir's SQLite database, leases and in-process
 * wake-ups. Beyond the port it offers `releaseAllLeases` (start-up after a crash) and
 * `purgeFinished` (retention).
 */
export class SqliteQueue extends SqlQueue {
  /** Creates or migrates the queue's table (idempotent), then returns the queue. */
  static async open(database: SqliteDatabase, options: SqliteQueueOptions = {}): Promise<SqliteQueue> {
    await migrate(database.kysely, 'queue', 'sqlite', queueMigrations);
    return new SqliteQueue(database.kysely, 'sqlite', options.clock);
  }
}

import type { PostgresDatabase } from '../sql/postgres-database.ts';
import { migrate } from '../sql/migrate.ts';
import { PostgresWakeups, queueChannel } from './postgres-wakeups.ts';
import { queueMigrations } from './queue-schema.ts';
import { SqlQueue } from './sql-queue.ts';

/**
 * The queue on a `tasks` table in PostgreSQL, for deployments that want no Redis: the same
 * statements as the embedded queue, claims passing each other with `FOR UPDATE SKIP LOCKED`,
 * and wake-ups reaching every process through LISTEN/NOTIFY. It holds one pool connection for
 * listening, so close the queue before the database.
 *
 * `releaseAllLeases` assumes this process is the queue's only user: do not call it while other
 * processes may hold leases (expired leases are taken over by claims anyway).
 */
export class PostgresQueue extends SqlQueue {
  /** Creates or migrates the queue's table in the database's schema (idempotent), then returns the queue. */
  static async open(database: PostgresDatabase): Promise<PostgresQueue> {
    await migrate(database.kysely, 'queue', 'postgres', queueMigrations, database.schema);
    const wakeups = await PostgresWakeups.listen(database.pool, queueChannel(database.schema));
    return new PostgresQueue(database.kysely, 'postgres', 'postgres', wakeups);
  }
}

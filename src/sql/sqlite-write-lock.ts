import { sql, type Kysely } from 'kysely';
import { ReamError } from '../errors.ts';

/** How long a migration waits for another connection's write to the same SQLite file to end. */
const WAIT_MS = 60_000;

/**
 * Runs `run` on one connection inside `BEGIN IMMEDIATE`: SQLite's write lock on the file, taken
 * before the first read, so two connections (two processes, or two stores of one process) that
 * open the same fresh data dir at once migrate one after the other instead of both creating the
 * same tables. DDL is transactional in SQLite: a failed migration leaves nothing half-made.
 *
 * The lock is waited for here, in short sleeps, not by SQLite's busy timeout: better-sqlite3
 * waits synchronously, which would stall the very thread a second connection of this process
 * needs to finish its migration and let go.
 */
export async function inSqliteWriteLock<T>(db: Kysely<unknown>, what: string, run: (connection: Kysely<unknown>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (connection) => {
    await beginImmediate(connection, what);
    let result: T;
    try {
      result = await run(connection);
    } catch (error) {
      await sql`rollback`.execute(connection);
      throw error;
    }
    await sql`commit`.execute(connection);
    return result;
  });
}

async function beginImmediate(connection: Kysely<unknown>, what: string): Promise<void> {
  const { rows } = await sql<{ timeout: number }>`pragma busy_timeout`.execute(connection);
  const busyTimeout = rows[0]?.timeout ?? 0;
  await sql`pragma busy_timeout = 0`.execute(connection);
  try {
    const deadline = Date.now() + WAIT_MS;
    for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
      try {
        await sql`begin immediate`.execute(connection);
        return;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'SQLITE_BUSY') throw error;
        if (Date.now() >= deadline) {
          throw new ReamError('unavailable', `${what}: the database stayed locked by another connection for ${WAIT_MS / 1000} s; try again once it is done`, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  } finally {
    await sql.raw(`pragma busy_timeout = ${Math.max(0, Math.floor(busyTimeout))}`).execute(connection);
  }
}

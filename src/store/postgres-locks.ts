import type { Pool } from 'pg';
import { KeyedMutex, type JobLocks } from '../runtime/keyed-mutex.ts';

/**
 * Job locks that every process sharing one PostgreSQL database sees: a session-level advisory
 * lock per key, held on a connection of a pool of its own. Waiters block in PostgreSQL, not in
 * a polling loop; a process that dies loses its session and so its locks — nothing to clean up.
 * Sections of one process queue up in memory first, so a process holds at most one connection
 * per key. The pool is separate from the store's: a section holding a lock must always be able
 * to get a connection for its own queries, however many others wait for locks.
 */
export class PostgresJobLocks implements JobLocks {
  readonly #pool: Pool;
  readonly #local = new KeyedMutex();

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  run<T>(key: string, section: () => Promise<T>): Promise<T> {
    return this.#local.run(key, async () => {
      const client = await this.#pool.connect();
      // A connection whose lock state is unknown is destroyed, not reused: that frees its locks.
      let broken: Error | undefined;
      try {
        await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [key]).catch((error: unknown) => {
          broken = error instanceof Error ? error : new Error(String(error));
          throw error;
        });
        try {
          return await section();
        } finally {
          await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch((error: unknown) => {
            broken = error instanceof Error ? error : new Error(String(error));
          });
        }
      } finally {
        client.release(broken);
      }
    });
  }
}

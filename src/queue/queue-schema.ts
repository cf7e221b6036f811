import { sql, type ColumnType, type Generated, type Kysely } from 'kysely';
import type { FlavoredMigration } from '../sql/migrate.ts';

type Num = ColumnType<number | string, number, number>;
type NullableText = ColumnType<string | null, string | null | undefined, string | null>;

export interface TasksTable {
  /** Insertion order: the last tie-breaker of the claim order. */
  seq: Generated<number | string>;
  id: string;
  job_id: string;
  kind: string;
  /** JSON text. */
  payload: string;
  priority: Num;
  /** When the task was first due: the claim order after priority. */
  run_at: Num;
  /**
   * When the task is next claimable: `run_at` (or a retry's time) while `queued`, the lease's
   * end while `leased`. One column for both is what lets a single indexed statement claim fresh
   * tasks and take over expired leases alike.
   */
  due_at: Num;
  attempts: ColumnType<number | string, number | undefined, number>;
  max_attempts: Num;
  status: string;
  parent_id: NullableText;
  /** Children of a `waiting` parent that have not ended yet. */
  pending: ColumnType<number | string, number | undefined, number>;
  lease_token: NullableText;
  worker_id: NullableText;
  /** JSON text of the last ErrorInfo. */
  last_error: NullableText;
  created_at: Num;
  finished_at: ColumnType<number | string | null, number | null | undefined, number | null>;
}

export type QueueTables = { tasks: TasksTable };

/**
 * The `tasks` table of SqliteQueue (embedded only). PostgreSQL databases migrated by earlier
 * releases may hold an unused `tasks` table and `queue_migrations` ledger: nothing reads them.
 */
export const queueMigrations: Record<string, FlavoredMigration> = {
  '0001_initial': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('tasks')
      // `integer primary key` is SQLite's rowid (no extra index, monotonic for inserts).
      .addColumn('seq', 'integer', (c) => c.primaryKey())
      .addColumn('id', 'text', (c) => c.notNull().unique())
      .addColumn('job_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('priority', 'integer', (c) => c.notNull())
      .addColumn('run_at', 'bigint', (c) => c.notNull())
      .addColumn('due_at', 'bigint', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('parent_id', 'text')
      .addColumn('pending', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('lease_token', 'text')
      .addColumn('worker_id', 'text')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .execute();
    // The claim walks this index in claim order and stops at the first due row. It is partial
    // (finished tasks drop out of it), and the claim must spell the status list as literals:
    // SQLite only uses a partial index when the query's WHERE visibly implies the index's.
    await db.schema
      .createIndex('tasks_claim')
      .on('tasks')
      .columns(['priority desc', 'run_at', 'seq'])
      .where(sql.ref('status'), 'in', [sql.lit('queued'), sql.lit('leased')])
      .execute();
    // Expired leases on their last attempt (the sweep) and releaseAllLeases: leased rows only.
    await db.schema.createIndex('tasks_leases').on('tasks').column('due_at').where(sql.ref('status'), '=', sql.lit('leased')).execute();
    await db.schema.createIndex('tasks_job_status').on('tasks').columns(['job_id', 'status']).execute();
    await db.schema.createIndex('tasks_parent').on('tasks').column('parent_id').where('parent_id', 'is not', null).execute();
  },
};

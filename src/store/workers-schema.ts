import type { Kysely } from 'kysely';
import type { Int } from '../sql/columns.ts';
import { adoptingLegacy, type PortMigrations } from '../sql/migrate.ts';

export interface WorkersTable {
  id: string;
  host: string;
  pid: Int;
  started_at: Int;
  last_seen_at: Int;
  concurrency: Int;
  in_flight: Int;
  tasks_done: Int;
  tasks_failed: Int;
  state: string;
  /** JSON: what the worker reports beyond the counts (0002). */
  detail: string | null;
  /** An admin's pause, resume or drain for the worker (0002). */
  command: string | null;
}

export type WorkerTables = { workers: WorkersTable };

async function createWorkers(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('workers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('concurrency', 'integer', (c) => c.notNull())
    .addColumn('in_flight', 'integer', (c) => c.notNull())
    .addColumn('tasks_done', 'bigint', (c) => c.notNull())
    .addColumn('tasks_failed', 'bigint', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('workers_last_seen').on('workers').column('last_seen_at').execute();
}

/** Worker monitoring: resources and tasks reported by each beat, and commands from admins. */
async function addDetailAndCommand(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite adds one at a time.
  await db.schema.alterTable('workers').addColumn('detail', 'text').execute();
  await db.schema.alterTable('workers').addColumn('command', 'text').execute();
}

/** Before the store was split into ports, the `store` ledger's 0003_workers_uploads made this table. */
export const workerMigrations: PortMigrations = {
  port: 'workers',
  migrations: {
    '0001_initial': adoptingLegacy({ ledger: 'store', name: '0003_workers_uploads' }, createWorkers),
    '0002_detail_command': addDetailAndCommand,
  },
};

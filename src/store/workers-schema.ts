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

/** Before the store was split into ports, the `store` ledger's 0003_workers_uploads made this table. */
export const workerMigrations: PortMigrations = {
  port: 'workers',
  migrations: { '0001_initial': adoptingLegacy({ ledger: 'store', name: '0003_workers_uploads' }, createWorkers) },
};

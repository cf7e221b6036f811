import type { ColumnType, Kysely } from 'kysely';
import type { Int, NullableInt } from '../sql/columns.ts';
import { adoptingLegacy, type PortMigrations } from '../sql/migrate.ts';

export interface JobsTable {
  id: string;
  tenant_id: string;
  key: string | null;
  pipeline: string;
  /** JSON text. */
  options: string;
  priority: Int;
  status: string;
  /** JSON text. */
  error: string | null;
  created_at: Int;
  started_at: NullableInt;
  finished_at: NullableInt;
  /**
   * The last event `seq` handed out for this job: the counter that keeps `seq` gapless. The
   * event store bumps it (it lives here so an append locks the job's row); jobs only create it.
   */
  event_seq: ColumnType<number | string, number | undefined, number>;
}

export type JobTables = { jobs: JobsTable };

async function createJobs(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text')
    .addColumn('pipeline', 'text', (c) => c.notNull())
    .addColumn('options', 'text', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addColumn('event_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  // "Idempotency key, unique per tenant when set": NULL keys never collide (SQL NULL semantics).
  await db.schema.createIndex('jobs_tenant_key').unique().on('jobs').columns(['tenant_id', 'key']).execute();
  // listJobs: newest first per tenant, optionally by status.
  await db.schema.createIndex('jobs_tenant_created').on('jobs').columns(['tenant_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('jobs_tenant_status_created').on('jobs').columns(['tenant_id', 'status', 'created_at', 'id']).execute();
  await db.schema.createIndex('jobs_status').on('jobs').column('status').execute();
}

/** Before the store was split into ports, the `store` ledger's 0001_initial made this table. */
export const jobMigrations: PortMigrations = {
  port: 'jobs',
  migrations: { '0001_initial': adoptingLegacy({ ledger: 'store', name: '0001_initial' }, createJobs) },
};

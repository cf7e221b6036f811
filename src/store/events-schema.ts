import { sql, type Kysely } from 'kysely';
import type { Int } from '../sql/columns.ts';
import { adoptingLegacy, type PortMigrations } from '../sql/migrate.ts';
import type { JobsTable } from './jobs-schema.ts';

export interface EventsTable {
  job_id: string;
  seq: Int;
  tenant_id: string;
  type: string;
  at: Int;
  /** JSON text of the rest of the event (documentId, chunk, stage, progress, message, error). */
  data: string;
}

/** Events, and of `jobs` only the per-job counter that numbers them. */
export type EventTables = { events: EventsTable; jobs: Pick<JobsTable, 'id' | 'event_seq' | 'deleting_at'> };

/** A job's events go with it (`on delete cascade`). */
async function createEvents(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('events')
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('events_pk', ['job_id', 'seq'])
    .execute();
}

/** The failure events, for `listFailureEvents`: two partial indexes, so that other events' writes pay nothing. */
export const FAILURE_EVENT_TYPES = ['chunk.failed', 'document.failed'] as const;

async function indexFailures(db: Kysely<unknown>): Promise<void> {
  // Kysely writes the values of an index's `where` as literals (DDL takes no parameters).
  await db.schema.createIndex('events_failures_tenant_at').on('events').columns(['tenant_id', 'at']).where(sql.ref('type'), 'in', [...FAILURE_EVENT_TYPES]).execute();
  await db.schema.createIndex('events_failures_at').on('events').column('at').where(sql.ref('type'), 'in', [...FAILURE_EVENT_TYPES]).execute();
}

/**
 * References `jobs`: migrated after it. Before the store was split into ports, the `store`
 * ledger's 0001_initial made this table.
 */
export const eventMigrations: PortMigrations = {
  port: 'events',
  migrations: { '0001_initial': adoptingLegacy({ ledger: 'store', name: '0001_initial' }, createEvents), '0002_failures_index': indexFailures },
};

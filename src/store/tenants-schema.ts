import type { Kysely } from 'kysely';
import type { Int, NullableInt } from '../sql/columns.ts';
import type { PortMigrations } from '../sql/migrate.ts';
import { addTenantStoredBytes, countArtifactsPerStatement } from './stored-bytes-schema.ts';

export interface CreditEntriesTable {
  id: string;
  tenant_id: string;
  kind: string;
  amount: Int;
  /** Unique: what makes an entry exactly-once. */
  key: string;
  job_id: string | null;
  reason: string | null;
  at: Int;
  /** JSON text, or null. */
  details: string | null;
}

export interface CreditBalancesTable {
  tenant_id: string;
  balance: Int;
}

export interface TenantQuotasTable {
  tenant_id: string;
  pages_per_day: NullableInt;
  concurrent_jobs: NullableInt;
  storage_bytes: NullableInt;
}

/** The pages of a job deleted since it was made (0002): still counted against its day's `pagesPerDay`. */
export interface DeletedJobPagesTable {
  job_id: string;
  tenant_id: string;
  /** The job's `created_at`, epoch ms: the day its pages count for. */
  created_at: number;
  pages: number;
}

/**
 * Room a store in flight holds in its tenant's storage quota (0004): taken under the tenant's
 * quota lock, counted with its stored bytes until the bytes are recorded (in that transaction) or
 * the store gives up; a holder that died holds it until `expires_at` (epoch ms).
 */
export interface StorageReservationsTable {
  id: string;
  tenant_id: string;
  bytes: Int;
  expires_at: Int;
}

export type StorageReservationTables = { storage_reservations: StorageReservationsTable };

export type TenantTables = {
  credit_entries: CreditEntriesTable; credit_balances: CreditBalancesTable; tenant_quotas: TenantQuotasTable; deleted_job_pages: DeletedJobPagesTable;
} & StorageReservationTables;

async function createTenantTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('credit_entries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text')
    .addColumn('reason', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('details', 'text')
    .addUniqueConstraint('credit_entries_key', ['key'])
    .execute();
  await db.schema.createIndex('credit_entries_tenant').on('credit_entries').columns(['tenant_id', 'id']).execute();
  await db.schema.createIndex('credit_entries_job').on('credit_entries').columns(['job_id']).execute();
  // The balance is kept beside the ledger, moved in the entry's transaction: its row is what
  // serialises two spends of one tenant (a row lock in PostgreSQL, the one connection in SQLite).
  await db.schema
    .createTable('credit_balances')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey())
    .addColumn('balance', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('tenant_quotas')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey())
    .addColumn('pages_per_day', 'bigint')
    .addColumn('concurrent_jobs', 'bigint')
    .addColumn('storage_bytes', 'bigint')
    .execute();
}

/**
 * `pagesPerDay` sums the pages of the tenant's jobs made today: a job deleted today took its
 * pages out of the sum, and a tenant could process without end by deleting its finished jobs.
 */
async function addDeletedJobPages(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('deleted_job_pages')
    .addColumn('job_id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('pages', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('deleted_job_pages_tenant').on('deleted_job_pages').columns(['tenant_id', 'created_at']).execute();
}

async function addStorageReservations(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('storage_reservations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('storage_reservations_tenant').on('storage_reservations').columns(['tenant_id', 'expires_at']).execute();
}

/** Migrated after `documents` and `job_documents`, whose records 0003 counts. */
export const tenantMigrations: PortMigrations = {
  port: 'tenants',
  migrations: {
    '0001_initial': createTenantTables,
    '0002_deleted_job_pages': addDeletedJobPages,
    '0003_tenant_stored_bytes': addTenantStoredBytes,
    '0004_storage_reservations': addStorageReservations,
    '0005_artifact_bytes_per_statement': countArtifactsPerStatement,
  },
};

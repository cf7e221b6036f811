import type { Kysely } from 'kysely';
import type { SqlFlavor } from '../sql/dialect.ts';
import { migratePorts, type PortMigrations } from '../sql/migrate.ts';
import { keyMigrations } from './api-keys-schema.ts';
import { auditMigrations } from './audit-schema.ts';
import { documentMigrations } from './documents-schema.ts';
import { eventMigrations } from './events-schema.ts';
import { jobDocumentMigrations } from './job-documents-schema.ts';
import { jobMigrations } from './jobs-schema.ts';
import { metricsMigrations } from './metrics-schema.ts';
import type { Store } from './port.ts';
import { sqlAuditStore } from './sql-audit-store.ts';
import { sqlDocumentStore } from './sql-document-store.ts';
import { sqlEventStore } from './sql-event-store.ts';
import { sqlJobDocumentStore } from './sql-job-document-store.ts';
import { sqlJobStore } from './sql-job-store.ts';
import { sqlKeyStore } from './sql-key-store.ts';
import { sqlMetricsStore } from './sql-metrics-store.ts';
import { sqlTenantStore } from './sql-tenant-store.ts';
import { sqlUploadStore } from './sql-upload-store.ts';
import { sqlWorkerStore } from './sql-worker-store.ts';
import { tenantMigrations } from './tenants-schema.ts';
import { uploadMigrations } from './uploads-schema.ts';
import { workerMigrations } from './workers-schema.ts';

/**
 * Every store port's migrations, in the order one database applies them: tables that reference
 * others (job documents and events reference jobs; job documents reference documents) come after.
 */
export const storeMigrations: readonly PortMigrations[] = [
  documentMigrations,
  jobMigrations,
  jobDocumentMigrations,
  eventMigrations,
  keyMigrations,
  workerMigrations,
  uploadMigrations,
  auditMigrations,
  tenantMigrations,
  metricsMigrations,
];

/**
 * Migrates every store port's tables (idempotent), then returns the store: each port's adapter
 * over the one database, composed. `schema` (PostgreSQL) is where the ledgers live.
 */
export async function openSqlStore(db: Kysely<unknown>, flavor: SqlFlavor, schema?: string): Promise<Store> {
  await migratePorts(db, flavor, storeMigrations, schema);
  return {
    name: flavor,
    ...sqlJobStore(db, flavor),
    ...sqlJobDocumentStore(db),
    ...sqlDocumentStore(db),
    ...sqlEventStore(db),
    ...sqlKeyStore(db),
    ...sqlWorkerStore(db),
    ...sqlUploadStore(db),
    ...sqlAuditStore(db),
    ...sqlTenantStore(db, flavor),
    ...sqlMetricsStore(db),
    // The database belongs to whoever opened it; the store holds nothing else to release.
    close: () => Promise.resolve(),
  };
}

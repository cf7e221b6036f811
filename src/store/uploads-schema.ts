import type { Kysely } from 'kysely';
import type { Int, OptionalText } from '../sql/columns.ts';
import { adoptingLegacy, type PortMigrations } from '../sql/migrate.ts';

export interface UploadsTable {
  id: string;
  tenant_id: string;
  status: string;
  name: string;
  size: Int;
  created_at: Int;
  document_id: OptionalText;
  sha256: OptionalText;
  media_type: OptionalText;
  /** JSON text. */
  error: OptionalText;
}

export type UploadTables = { uploads: UploadsTable };

async function createUploads(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('uploads')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('document_id', 'text')
    .addColumn('sha256', 'text')
    .addColumn('media_type', 'text')
    .addColumn('error', 'text')
    .execute();
  // deleteFailedUploadsBefore: refused uploads by age.
  await db.schema.createIndex('uploads_status_created').on('uploads').columns(['status', 'created_at']).execute();
}

/** Before the store was split into ports, the `store` ledger's 0003_workers_uploads made this table. */
export const uploadMigrations: PortMigrations = {
  port: 'uploads',
  migrations: { '0001_initial': adoptingLegacy({ ledger: 'store', name: '0003_workers_uploads' }, createUploads) },
};

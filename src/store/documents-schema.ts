import type { Kysely } from 'kysely';
import type { Int } from '../sql/columns.ts';
import { adoptingLegacy, type PortMigrations } from '../sql/migrate.ts';

export interface DocumentsTable {
  id: string;
  tenant_id: string;
  sha256: string;
  name: string;
  size: Int;
  media_type: string;
  created_at: Int;
}

export type DocumentTables = { documents: DocumentsTable };

async function createDocuments(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('documents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('media_type', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('documents_tenant_sha256', ['tenant_id', 'sha256'])
    .execute();
}

/** Before the store was split into ports, the `store` ledger's 0001_initial made this table. */
export const documentMigrations: PortMigrations = {
  port: 'documents',
  migrations: { '0001_initial': adoptingLegacy({ ledger: 'store', name: '0001_initial' }, createDocuments) },
};

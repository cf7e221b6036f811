import type { Kysely } from 'kysely';
import type { Int, OptionalInt } from '../sql/columns.ts';
import { adoptingLegacy, type PortMigrations } from '../sql/migrate.ts';

export interface DocumentsTable {
  id: string;
  tenant_id: string;
  sha256: string;
  name: string;
  size: Int;
  media_type: string;
  created_at: Int;
  /** Epoch ms of its deletion while finished jobs still name it (0002); null while it is live. */
  deleted_at: OptionalInt;
  /** Epoch ms its content was last stored (0003): a repeat of the content is as new for retention. Null before 0003: `created_at` stands. */
  stored_at: OptionalInt;
}

/** A held lock on a content (`DocumentStore.withContentLock`), until `expires_at` if its holder died. */
export interface ContentLocksTable {
  sha256: string;
  holder: string;
  expires_at: Int;
}

export type DocumentTables = { documents: DocumentsTable; content_locks: ContentLocksTable };

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

/**
 * A document deleted while finished jobs name it stays as a row (their records reference it)
 * marked deleted: invisible, its blob gone unless shared, its row removed once no job names it.
 * Locks on contents keep a blob's deletion and a new document of the same content apart.
 */
async function addDeletedAt(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('documents').addColumn('deleted_at', 'bigint').execute();
  // Deleting a blob checks for live documents of its content (of any tenant).
  await db.schema.createIndex('documents_sha256').on('documents').column('sha256').execute();
  await db.schema
    .createTable('content_locks')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}

/**
 * When the content was last stored: storing the same content again answers the existing record
 * (and its `created_at`), and retention must not take it for a document nobody has sent for days.
 */
async function addStoredAt(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('documents').addColumn('stored_at', 'bigint').execute();
}

/** Before the store was split into ports, the `store` ledger's 0001_initial made this table. */
export const documentMigrations: PortMigrations = {
  port: 'documents',
  migrations: {
    '0001_initial': adoptingLegacy({ ledger: 'store', name: '0001_initial' }, createDocuments),
    '0002_deleted_documents': addDeletedAt,
    '0003_stored_at': addStoredAt,
  },
};

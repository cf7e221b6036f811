import type { ColumnType, Kysely } from 'kysely';
import type { FlavoredMigration } from './sql.ts';
import { createWorkersAndUploads, type UploadsTable, type WorkersTable } from './workers-uploads-schema.ts';

/** Epoch ms columns are `bigint`: PostgreSQL drivers may hand them back as strings. */
type Millis = ColumnType<number | string, number, number>;
type NullableMillis = ColumnType<number | string | null, number | null, number | null>;
/** Counts from SQL may be strings (PostgreSQL) or numbers (SQLite). */
type Int = ColumnType<number | string, number, number>;

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
  created_at: Millis;
  started_at: NullableMillis;
  finished_at: NullableMillis;
  /** The last event `seq` handed out for this job: the counter that keeps `seq` gapless. */
  event_seq: ColumnType<number | string, number | undefined, number>;
}

export interface DocumentsTable {
  id: string;
  tenant_id: string;
  sha256: string;
  name: string;
  size: Millis;
  media_type: string;
  created_at: Millis;
}

export interface JobDocumentsTable {
  job_id: string;
  document_id: string;
  ordinal: Int;
  source: string;
  status: ColumnType<string, string | undefined, string>;
  pages_total: ColumnType<number | string | null, number | null | undefined, number | null>;
  chunks_total: ColumnType<number | string | null, number | null | undefined, number | null>;
  info: ColumnType<string | null, string | null | undefined, string | null>;
  error: ColumnType<string | null, string | null | undefined, string | null>;
  started_at: ColumnType<number | string | null, number | null | undefined, number | null>;
  finished_at: ColumnType<number | string | null, number | null | undefined, number | null>;
}

export interface ChunkResultsTable {
  job_id: string;
  document_id: string;
  idx: Int;
  from_page: Int;
  to_page: Int;
  status: string;
  output: string | null;
  error: string | null;
  duration_ms: Int;
}

export interface DocumentResultsTable {
  job_id: string;
  document_id: string;
  output: string;
}

export interface EventsTable {
  job_id: string;
  seq: Int;
  tenant_id: string;
  type: string;
  at: Millis;
  /** JSON text of the rest of the event (documentId, chunk, stage, progress, message, error). */
  data: string;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  role: string;
  /** sha256 of the secret, hex. */
  hash: string;
  created_at: Millis;
  revoked_at: NullableMillis;
}

export type StoreTables = {
  jobs: JobsTable;
  documents: DocumentsTable;
  job_documents: JobDocumentsTable;
  chunk_results: ChunkResultsTable;
  document_results: DocumentResultsTable;
  events: EventsTable;
  api_keys: ApiKeysTable;
  workers: WorkersTable;
  uploads: UploadsTable;
};

/** Code-defined, append-only: never edit a migration that has shipped; add the next one. */
export const storeMigrations: Record<string, FlavoredMigration> = {
  '0001_initial': async (db: Kysely<unknown>) => {
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

    await db.schema
      .createTable('job_documents')
      .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
      .addColumn('document_id', 'text', (c) => c.notNull().references('documents.id'))
      .addColumn('ordinal', 'integer', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('queued'))
      .addColumn('pages_total', 'integer')
      .addColumn('chunks_total', 'integer')
      .addColumn('info', 'text')
      .addColumn('error', 'text')
      .addColumn('started_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .addPrimaryKeyConstraint('job_documents_pk', ['job_id', 'document_id'])
      .execute();
    await db.schema.createIndex('job_documents_job_ordinal').on('job_documents').columns(['job_id', 'ordinal']).execute();
    await db.schema.createIndex('job_documents_document').on('job_documents').column('document_id').execute();

    await db.schema
      .createTable('chunk_results')
      .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
      .addColumn('document_id', 'text', (c) => c.notNull())
      .addColumn('idx', 'integer', (c) => c.notNull())
      .addColumn('from_page', 'integer', (c) => c.notNull())
      .addColumn('to_page', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('output', 'text')
      .addColumn('error', 'text')
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('chunk_results_pk', ['job_id', 'document_id', 'idx'])
      .execute();

    await db.schema
      .createTable('document_results')
      .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
      .addColumn('document_id', 'text', (c) => c.notNull())
      .addColumn('output', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('document_results_pk', ['job_id', 'document_id'])
      .execute();

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
  },
  '0002_api_keys': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema.createIndex('api_keys_tenant').on('api_keys').columns(['tenant_id', 'created_at']).execute();
  },
  '0003_workers_uploads': createWorkersAndUploads,
};

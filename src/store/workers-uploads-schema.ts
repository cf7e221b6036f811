import type { ColumnType, Kysely } from 'kysely';

/** Integers that PostgreSQL `bigint` may hand back as strings. */
type Int = ColumnType<number | string, number, number>;
type NullableText = ColumnType<string | null, string | null | undefined, string | null>;

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

export interface UploadsTable {
  id: string;
  tenant_id: string;
  status: string;
  name: string;
  size: Int;
  created_at: Int;
  document_id: NullableText;
  sha256: NullableText;
  media_type: NullableText;
  /** JSON text. */
  error: NullableText;
}

/** Worker heartbeats (`GET /v1/workers`) and tus upload records, shared by every process. */
export async function createWorkersAndUploads(db: Kysely<unknown>): Promise<void> {
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

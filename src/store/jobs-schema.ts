import { sql, type ColumnType, type Kysely } from 'kysely';
import type { JsonObject } from '../json.ts';
import type { Int, NullableInt, OptionalText } from '../sql/columns.ts';
import { fromJsonText, toJsonText } from '../sql/dialect.ts';
import { adoptingLegacy, type FlavoredMigration, type PortMigrations } from '../sql/migrate.ts';

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
  /** Engine state (0002): the retry generation, the webhook target, the document-set counter. */
  retry_generation: ColumnType<number | string, number | undefined, number>;
  webhook_url: OptionalText;
  webhook_secret: OptionalText;
  documents_seq: ColumnType<number | string, number | undefined, number>;
  /**
   * When the job's deletion began (0005), `null` while it is not being deleted: the deletion
   * removes its rows a batch per transaction, and readers see no job from the first batch on.
   */
  deleting_at: ColumnType<number | string | null, number | null | undefined, number | null>;
}

/** `job_documents` is read by the conditional close (`ifDocumentsEnded`), never written here. */
export type JobTables = { jobs: JobsTable; job_documents: { job_id: string; status: string } };

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

/**
 * Where the engine kept its own state before 0002: under this key in the job's options, as
 * `{ retry?: number, webhook?: { url, secret? } }`.
 */
const LEGACY_META_KEY = '_ream';

/**
 * The engine's state on a job gets columns of its own instead of living in the user's options:
 * the retry generation, the webhook target and the document-set counter that closing a job is
 * conditional on. Existing jobs' `_ream` values move into the columns and leave their options.
 */
async function addEngineColumns(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('retry_generation', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('jobs').addColumn('webhook_url', 'text').execute();
  await db.schema.alterTable('jobs').addColumn('webhook_secret', 'text').execute();
  await db.schema.alterTable('jobs').addColumn('documents_seq', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  const jobs = db.withTables<{ jobs: JobsTable }>();
  // JSON is text in every dialect: the key is found by a LIKE pre-filter, then parsed here.
  const rows = await jobs.selectFrom('jobs').select(['id', 'options']).where('options', 'like', `%"${LEGACY_META_KEY}"%`).execute();
  for (const row of rows) {
    const options = fromJsonText<JsonObject>(row.options);
    const meta = options[LEGACY_META_KEY];
    if (meta === undefined) continue;
    const { [LEGACY_META_KEY]: _moved, ...rest } = options;
    const fields = typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? meta : {};
    const webhook = typeof fields.webhook === 'object' && fields.webhook !== null && !Array.isArray(fields.webhook) ? fields.webhook : {};
    await jobs
      .updateTable('jobs')
      .set({
        options: toJsonText(rest),
        retry_generation: typeof fields.retry === 'number' ? fields.retry : 0,
        webhook_url: typeof webhook.url === 'string' ? webhook.url : null,
        webhook_secret: typeof webhook.url === 'string' && typeof webhook.secret === 'string' ? webhook.secret : null,
      })
      .where('id', '=', row.id)
      .execute();
  }
}

/** Before the store was split into ports, the `store` ledger's 0001_initial made this table. */
/** Every tenant's jobs newest first (an admin's list), a page at a time by (created_at, id). */
async function indexCreated(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('jobs_created').on('jobs').columns(['created_at', 'id']).execute();
}

/**
 * A tenant's job search (`ListJobsQuery.search`) as index searches, not a scan of all its jobs:
 * a job id's start through an index on the id as compared case-blind (SQLite: the NOCASE id, which
 * its LIKE uses; PostgreSQL: lower(id) in byte order, which its LIKE with a fixed start uses), and
 * a pipeline name's part through the tenant's few pipeline names, each read in list order.
 */
const indexSearch: FlavoredMigration = async (db, flavor) => {
  if (flavor === 'sqlite') await sql`create index jobs_tenant_id_nocase on jobs (tenant_id, id collate nocase)`.execute(db);
  else await sql`create index jobs_tenant_lower_id on jobs (tenant_id, lower(id) text_pattern_ops)`.execute(db);
  await db.schema.createIndex('jobs_tenant_pipeline_created').on('jobs').columns(['tenant_id', 'pipeline', 'created_at', 'id']).execute();
};

/** A job under deletion is marked first, so that no reader sees it half deleted (sql-job-deletion.ts). */
async function addDeletingAt(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('deleting_at', 'bigint').execute();
}

/**
 * The jobs under deletion, few at any time: recovery looks for those cut short (every process,
 * every few minutes), which read the whole table without it.
 */
async function indexDeleting(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('jobs_deleting').on('jobs').column('deleting_at').where(sql.ref('deleting_at'), 'is not', null).execute();
}

export const jobMigrations: PortMigrations = {
  port: 'jobs',
  migrations: {
    '0001_initial': adoptingLegacy({ ledger: 'store', name: '0001_initial' }, createJobs),
    '0002_engine_columns': addEngineColumns,
    '0003_created_index': indexCreated,
    '0004_search_indexes': indexSearch,
    '0005_deleting_at': addDeletingAt,
    '0006_deleting_index': indexDeleting,
  },
};

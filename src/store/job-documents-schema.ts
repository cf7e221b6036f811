import type { ColumnType, Kysely } from 'kysely';
import type { Int, OptionalInt, OptionalText } from '../sql/columns.ts';
import { adoptingLegacy, type PortMigrations } from '../sql/migrate.ts';

export interface JobDocumentsTable {
  job_id: string;
  document_id: string;
  ordinal: Int;
  source: string;
  status: ColumnType<string, string | undefined, string>;
  pages_total: OptionalInt;
  chunks_total: OptionalInt;
  /** JSON text. */
  info: OptionalText;
  /** JSON text. */
  error: OptionalText;
  started_at: OptionalInt;
  finished_at: OptionalInt;
  /** The document this one was taken out of (an e-mail's attachment), or null (0002). */
  parent_id: OptionalText;
}

export interface ChunkResultsTable {
  job_id: string;
  document_id: string;
  idx: Int;
  from_page: Int;
  to_page: Int;
  status: string;
  output: string | null;
  /** The output's `body` text, verbatim (0004; see `ChunkResultRecord.output`). */
  body: OptionalText;
  /** The output's `csv` text, verbatim (0006): read only when asked for (`getChunkResult`'s `withCsv`). */
  csv: OptionalText;
  error: string | null;
  duration_ms: Int;
}

/** Pages of a chunk read so far, while it runs (0008): see `JobDocumentStore.putChunkProgress`. */
export interface ChunkProgressTable {
  job_id: string;
  document_id: string;
  idx: Int;
  pages_read: Int;
}

export interface DocumentResultsTable {
  job_id: string;
  document_id: string;
  output: string;
}

/** A blob a job's results name as one of its files (a rendered report), by content (0003). */
export interface JobArtifactsTable {
  job_id: string;
  sha256: string;
  /** Bytes of the file (0009; 0 for rows recorded before). */
  size: ColumnType<number | string, number | undefined, number>;
}

/**
 * One file a job made (a rendered report), listed and looked up by these rows (0010): `seq`
 * orders a job's files as their documents ended (the list's keyset cursor), `name` is unique in
 * the job (without case: `name_key`), given when its document ended.
 */
export interface JobReportFilesTable {
  job_id: string;
  seq: ColumnType<number | string, number, number>;
  name: string;
  name_key: string;
  /** The name without its extension, lower-cased: a base one document holds is not another's. */
  base_key: string;
  /** The base its document named, before a `-2` made it unique, lower-cased: the suffixes taken for one base are found by it. */
  root_key: string;
  document_id: string;
  row: ColumnType<number | string, number, number>;
  sha256: string;
  size: ColumnType<number | string, number, number>;
  media_type: string;
}

export type JobDocumentTables = {
  job_documents: JobDocumentsTable;
  chunk_results: ChunkResultsTable;
  chunk_progress: ChunkProgressTable;
  document_results: DocumentResultsTable;
  job_artifacts: JobArtifactsTable;
  job_report_files: JobReportFilesTable;
};

/**
 * Every row references its job `on delete cascade`: deleting a job takes its rows along, in the
 * same statement (SQLite enforces this because the database turns foreign keys on).
 */
async function createJobDocuments(db: Kysely<unknown>): Promise<void> {
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
}

/** Attachments as child documents: each names the document it came out of. */
async function addParentId(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('job_documents').addColumn('parent_id', 'text').execute();
}

/**
 * The blobs of a job's report files, so that deleting the job can remove those no one else
 * names (another job's report of the same bytes, a document of the same content). Goes with
 * its job (`on delete cascade`).
 */
async function addJobArtifacts(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('job_artifacts')
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('job_artifacts_pk', ['job_id', 'sha256'])
    .execute();
  await db.schema.createIndex('job_artifacts_sha256').on('job_artifacts').column('sha256').execute();
}

/**
 * A packed chunk's rows (its output's `body` text) in a column of their own: stored as they come,
 * not escaped again inside the output's JSON, and left unread by the merge, which needs the rest.
 */
async function addChunkBody(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('chunk_results').addColumn('body', 'text').execute();
}

/**
 * Every event carries the job's progress, summed over its chunk results (sql-job-counts.ts). The
 * rows also hold each chunk's text, a page or more apiece, so that sum read the whole table's
 * share of the job before every event; this index holds all it reads, a few bytes per chunk.
 */
async function addChunkCountsIndex(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('chunk_results_job_counts').on('chunk_results').columns(['job_id', 'status', 'from_page', 'to_page']).execute();
}

/**
 * A `rows` batch's CSV records (its output's `csv` text, `ReadOptions.tableCsv`) in a column of
 * their own: read by the table writer without the rows' body, and by nothing else (not the merge).
 */
async function addChunkCsv(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('chunk_results').addColumn('csv', 'text').execute();
}

/**
 * Reads that run once per document of a job, and so must not read all of the job's documents:
 * an e-mail's attachments by their parent (`parentId`), and the counts every event carries
 * (sql-job-counts.ts), from an index that holds all they sum, not from the rows and their `info`.
 */
async function addDocumentIndexes(db: Kysely<unknown>): Promise<void> {
  // In list order too: SQLite then prefers it to the (job, ordinal) index, which would scan the job.
  await db.schema.createIndex('job_documents_job_parent').on('job_documents').columns(['job_id', 'parent_id', 'ordinal', 'document_id']).execute();
  await db.schema.createIndex('job_documents_job_counts').on('job_documents').columns(['job_id', 'status', 'pages_total', 'chunks_total']).execute();
}

/**
 * A chunk of scans takes a minute or more of OCR, and its pages count as done only once its
 * checkpoint is stored: its pages read so far live here meanwhile, so progress moves within it.
 */
async function addChunkProgress(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('chunk_progress')
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('document_id', 'text', (c) => c.notNull())
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('pages_read', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('chunk_progress_pk', ['job_id', 'document_id', 'idx'])
    .execute();
}

/**
 * Report files count toward their tenant's stored bytes (the `storageBytes` quota): their sizes
 * are kept beside them. Rows recorded before say 0.
 */
async function addArtifactSize(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('job_artifacts').addColumn('size', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
}

async function addJobReportFiles(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('job_report_files')
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('base_key', 'text', (c) => c.notNull())
    .addColumn('root_key', 'text', (c) => c.notNull())
    .addColumn('document_id', 'text', (c) => c.notNull())
    .addColumn('row', 'integer', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('media_type', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('job_report_files_pk', ['job_id', 'seq'])
    .addUniqueConstraint('job_report_files_name', ['job_id', 'name_key'])
    .execute();
  await db.schema.createIndex('job_report_files_base').on('job_report_files').columns(['job_id', 'base_key']).execute();
  await db.schema.createIndex('job_report_files_root').on('job_report_files').columns(['job_id', 'root_key', 'base_key']).execute();
  await db.schema.createIndex('job_report_files_document').on('job_report_files').columns(['job_id', 'document_id', 'seq']).execute();
}

/**
 * References `jobs` and `documents`: migrated after both. Before the store was split into ports,
 * the `store` ledger's 0001_initial made these tables.
 */
export const jobDocumentMigrations: PortMigrations = {
  port: 'job_documents',
  migrations: {
    '0001_initial': adoptingLegacy({ ledger: 'store', name: '0001_initial' }, createJobDocuments),
    '0002_parent_id': addParentId,
    '0003_job_artifacts': addJobArtifacts,
    '0004_chunk_body': addChunkBody,
    '0005_chunk_counts_index': addChunkCountsIndex,
    '0006_chunk_csv': addChunkCsv,
    '0007_document_indexes': addDocumentIndexes,
    '0008_chunk_progress': addChunkProgress,
    '0009_artifact_size': addArtifactSize,
    '0010_job_report_files': addJobReportFiles,
  },
};

import { sql, type Kysely, type RawBuilder } from 'kysely';
import { turnsEvery } from '../event-loop-turns.ts';
import { toNumber, type SqlFlavor } from '../sql/dialect.ts';
import type { DocumentTables } from './documents-schema.ts';
import type { EventTables } from './events-schema.ts';
import type { JobDocumentTables } from './job-documents-schema.ts';
import type { JobTables } from './jobs-schema.ts';
import type { TenantTables } from './tenants-schema.ts';

type Tables = JobTables & JobDocumentTables & EventTables & DocumentTables & TenantTables;

/** Rows removed per statement at first: each statement stays far below any statement timeout. */
export const JOB_DELETION_BATCH = 1000;
/** PostgreSQL's code for a statement cancelled past its statement timeout. */
const STATEMENT_CANCELLED = '57014';

const DAY_MS = 86_400_000;

/**
 * A job's rows that nothing reads once it is being deleted. `job_artifacts` is not among them:
 * PostgreSQL uncounts the tenant's report bytes from them as the job row goes
 * (stored-bytes-schema.ts), so they go with it.
 */
const BATCHED = ['events', 'chunk_progress', 'chunk_results', 'document_results', 'job_report_files'] as const;

/**
 * Up to `batch` of the job's rows in `table`, named by their physical address (PostgreSQL's
 * `ctid`, SQLite's `rowid`), which each batch looks up directly: a row-value match on the keys
 * can be planned as a scan of all of the job's rows, every batch.
 */
function batchOf(flavor: SqlFlavor, table: string, jobId: string, batch: number): RawBuilder<unknown> {
  return flavor === 'postgres'
    ? sql`job_id = ${jobId} and ctid = any(array(select ctid from ${sql.table(table)} where job_id = ${jobId} limit ${batch}))`
    : sql`rowid in (select rowid from ${sql.table(table)} where job_id = ${jobId} limit ${batch})`;
}

/**
 * Longest a SQLite deletion holds the event loop between two turns, in ms (past one batch, which
 * it cannot cut): its statements, awaited one after another, kept every request waiting until the last.
 */
const TURN_MS = 10;

/**
 * Marks the job as being deleted (kept if marked already): hidden from every reader from now on.
 * Its idempotency key is freed with it, so a submission repeating it makes a new job. The job's
 * tenant and creation, or undefined when there is no such job.
 */
export async function markJobDeleting(kysely: Kysely<unknown>, id: string): Promise<{ tenant_id: string; created_at: number | string } | undefined> {
  return kysely.withTables<JobTables>().updateTable('jobs').set({ deleting_at: sql<number>`coalesce(deleting_at, ${Date.now()})`, key: null })
    .where('id', '=', id).returning(['tenant_id', 'created_at']).executeTakeFirst();
}

/**
 * Deletes a job a bounded batch of rows per statement (each its own transaction), the job row
 * last: a job of any size goes within a statement timeout, and a deletion cut short anywhere
 * (a timeout, a crash) is finished by running it again. Its job documents go in transactions
 * that move their pages to `deleted_job_pages` (the tenant's `pagesPerDay` usage) and purge the
 * deleted documents only they still named, so the pages count exactly once at every moment.
 * `false` when there is no such job.
 */
export function sqlJobDeletion(kysely: Kysely<unknown>, flavor: SqlFlavor, batch = JOB_DELETION_BATCH): (id: string) => Promise<boolean> {
  const db = kysely.withTables<Tables>();
  return async (id) => {
    const size = batchSize(batch);
    const letOthersIn = flavor === 'sqlite' ? turnsEvery(TURN_MS) : (): Promise<void> => Promise.resolve();
    // Marked before its first batch: readers see no job rather than one with some of its documents
    // gone.
    const job = await markJobDeleting(kysely, id);
    if (!job) return false;
    await db.deleteFrom('deleted_job_pages').where('created_at', '<', Date.now() - 2 * DAY_MS).execute();
    for (const table of BATCHED) {
      for (;;) {
        const rows = size.now();
        const deleted = await size.run(() => sql`delete from ${sql.table(table)} where ${batchOf(flavor, table, id, rows)}`.execute(db));
        await letOthersIn();
        if (deleted !== undefined && toNumber(deleted.numAffectedRows ?? 0n) < rows) break;
      }
    }
    const owner = { tenantId: job.tenant_id, createdAt: toNumber(job.created_at) };
    for (;;) {
      for (;;) {
        const rows = size.now();
        const deleted = await size.run(() => deleteJobDocuments(db, flavor, id, rows, owner));
        await letOthersIn();
        if (deleted !== undefined && deleted < rows) break;
      }
      // One row, but its cascades scan the emptied tables past the dead rows the batches left: on a
      // loaded database that can pass the timeout. Each try's scans mark the dead rows it passed, so
      // the next goes further. Only once no job document is left: another deletion of the job (a
      // DELETE repeated meanwhile) may hold a batch still to commit, which this one's skipped
      // (PostgreSQL); the job row's cascade took those with it, their pages uncounted for the tenant.
      const deleted = await retryCancelled(() => db.deleteFrom('jobs').where('id', '=', id)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('job_documents').select('job_id').where('job_id', '=', id))))
        .executeTakeFirst());
      if (deleted.numDeletedRows > 0n) return true;
      if (!(await db.selectFrom('jobs').select('id').where('id', '=', id).executeTakeFirst())) return false; // the other finished it
    }
  };
}

/**
 * The rows per statement, smaller after a statement PostgreSQL cancelled past its timeout (a
 * loaded database, or a timeout set low) and larger again after each that went through:
 * `run` answers `undefined` for a cancelled statement to be tried again at the new size; it
 * throws when even one row at a time is cancelled three times over.
 */
export function batchSize(largest: number): { now(): number; run<T>(statement: () => Promise<T>): Promise<T | undefined> } {
  let rows = largest;
  let cancelledAtOne = 0;
  return {
    now: () => rows,
    async run(statement) {
      try {
        const result = await statement();
        rows = Math.min(largest, rows * 2);
        cancelledAtOne = 0;
        return result;
      } catch (error) {
        if ((error as { code?: unknown }).code !== STATEMENT_CANCELLED) throw error;
        if (rows === 1 && ++cancelledAtOne >= 3) throw error;
        rows = Math.max(1, Math.floor(rows / 4));
        return undefined;
      }
    },
  };
}

/** A statement tried again when PostgreSQL cancels it past its timeout, up to `tries` times. */
async function retryCancelled<T>(statement: () => Promise<T>, tries = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await statement();
    } catch (error) {
      if ((error as { code?: unknown }).code !== STATEMENT_CANCELLED || attempt >= tries) throw error;
    }
  }
}

/**
 * One batch of the job's documents, with their pages kept for the tenant and the deleted
 * documents no other job names purged, in one transaction. How many rows went.
 */
async function deleteJobDocuments(db: Kysely<Tables>, flavor: SqlFlavor, jobId: string, batch: number, job: { tenantId: string; createdAt: number }): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ document_id: string; status: string; pages_total: number | string | null }>`
      delete from job_documents where ${batchOf(flavor, 'job_documents', jobId, batch)}
      returning document_id, status, pages_total`.execute(trx);
    if (rows.length === 0) return 0;
    // What the tenant's usage counted for them (sql-tenant-store.ts `tenantUsage`): a document
    // not read yet counts a page.
    const pages = rows.reduce((sum, row) => sum + (row.pages_total === null ? (row.status === 'queued' || row.status === 'running' ? 1 : 0) : toNumber(row.pages_total)), 0);
    if (pages > 0) {
      await trx.insertInto('deleted_job_pages').values({ job_id: jobId, tenant_id: job.tenantId, created_at: job.createdAt, pages })
        .onConflict((oc) => oc.column('job_id').doUpdateSet({ pages: sql`deleted_job_pages.pages + excluded.pages` }))
        .execute();
    }
    // A document deleted while this job named it keeps its row until the last such job goes.
    await trx.deleteFrom('documents')
      .where('id', 'in', rows.map((row) => row.document_id))
      .where('deleted_at', 'is not', null)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('job_documents').select('job_id').whereRef('job_documents.document_id', '=', 'documents.id'))))
      .execute();
    return rows.length;
  });
}

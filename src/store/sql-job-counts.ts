import type { Kysely } from 'kysely';
import { toNumber } from '../sql/dialect.ts';
import { prepareQuery } from '../sql/prepared-query.ts';
import type { JobCounts } from './job-document-store.ts';
import type { JobDocumentTables } from './job-documents-schema.ts';

/**
 * "Counted in the store from what is recorded, so repeats never double-count": every number is
 * an aggregate over rows keyed by (job, document[, chunk]), never a counter bumped by callers.
 */
export function jobCountsReader(db: Kysely<JobDocumentTables>): (jobId: string, on?: Kysely<JobDocumentTables>) => Promise<JobCounts> {
  const documents = prepareQuery(db, 1, (db, jobId: string) => documentCountsQuery(db, jobId));
  const chunkSums = prepareQuery(db, 1, (db, jobId: string) => chunkCountsQuery(db, jobId));
  const running = prepareQuery(db, 1, (db, jobId: string) => runningPagesQuery(db, jobId));
  return async (jobId, on) => {
    const docs = await documents.takeFirst([jobId], on);
    const chunks = await chunkSums.takeFirst([jobId], on);
    const partly = await running.takeFirst([jobId], on);
    // Aggregates without GROUP BY answer one row, even over no rows.
    if (!docs || !chunks || !partly) throw new Error(`the counts of job ${jobId} answered no row`);
    return {
      documentsTotal: toNumber(docs.total),
      documentsSucceeded: toNumber(docs.succeeded),
      documentsPartial: toNumber(docs.partial),
      documentsFailed: toNumber(docs.failed),
      documentsCancelled: toNumber(docs.cancelled),
      pagesTotal: toNumber(docs.pages),
      documentsUncounted: toNumber(docs.uncounted),
      pagesDone: toNumber(chunks.pages) + toNumber(partly.pages),
      chunksTotal: toNumber(docs.chunks),
      chunksSucceeded: toNumber(chunks.succeeded),
      chunksFailed: toNumber(chunks.failed),
    };
  };
}

function documentCountsQuery(db: Kysely<JobDocumentTables>, jobId: string) {
  return db
    .selectFrom('job_documents')
    .where('job_id', '=', jobId)
    .select((eb) => {
      const countStatus = (status: string) => eb.fn.sum<number | string | null>(eb.case().when('status', '=', status).then(1).else(0).end());
      return [
        eb.fn.countAll<number | string>().as('total'),
        countStatus('succeeded').as('succeeded'),
        countStatus('partially_succeeded').as('partial'),
        countStatus('failed').as('failed'),
        countStatus('cancelled').as('cancelled'),
        eb.fn.sum<number | string | null>(eb.fn.coalesce('pages_total', eb.lit(0))).as('pages'),
        eb.fn.sum<number | string | null>(eb.case().when(eb.and([eb('pages_total', 'is', null), eb('status', 'in', ['queued', 'running'])])).then(1).else(0).end()).as('uncounted'),
        eb.fn.sum<number | string | null>(eb.fn.coalesce('chunks_total', eb.lit(0))).as('chunks'),
      ];
    });
}

/**
 * The sums over a job's chunk results. Run before every event: it reads only columns of the
 * `chunk_results_job_counts` index (job-documents-schema.ts), never the rows and their text.
 */
export function chunkCountsQuery(db: Kysely<JobDocumentTables>, jobId: string) {
  return db
    .selectFrom('chunk_results')
    .where('job_id', '=', jobId)
    .select((eb) => [
      eb.fn.sum<number | string | null>(eb.case().when('status', '=', 'succeeded').then(1).else(0).end()).as('succeeded'),
      eb.fn.sum<number | string | null>(eb.case().when('status', '=', 'failed').then(1).else(0).end()).as('failed'),
      eb.fn.sum<number | string | null>(eb('to_page', '-', eb.ref('from_page'))).as('pages'),
    ]);
}

/** Pages read so far in chunks that have no checkpoint yet (a chunk of scans being OCR'd). */
function runningPagesQuery(db: Kysely<JobDocumentTables>, jobId: string) {
  return db
    .selectFrom('chunk_progress as p')
    .where('p.job_id', '=', jobId)
    .where((eb) => eb.not(eb.exists(
      eb.selectFrom('chunk_results as r').select('r.idx').whereRef('r.job_id', '=', 'p.job_id').whereRef('r.document_id', '=', 'p.document_id').whereRef('r.idx', '=', 'p.idx'),
    )))
    .select((eb) => eb.fn.sum<number | string | null>('p.pages_read').as('pages'));
}

import type { Kysely } from 'kysely';
import { JOB_STATUSES, type JobCounts, type JobStatus } from './port.ts';
import { toNumber } from './sql.ts';
import type { StoreTables } from './store-schema.ts';

/**
 * "Counted in the store from what is recorded, so repeats never double-count": every number is
 * an aggregate over rows keyed by (job, document[, chunk]), never a counter bumped by callers.
 */
export async function jobCounts(db: Kysely<StoreTables>, jobId: string): Promise<JobCounts> {
  const docs = await db
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
        eb.fn.sum<number | string | null>(eb.fn.coalesce('chunks_total', eb.lit(0))).as('chunks'),
      ];
    })
    .executeTakeFirstOrThrow();
  const chunks = await db
    .selectFrom('chunk_results')
    .where('job_id', '=', jobId)
    .select((eb) => [
      eb.fn.sum<number | string | null>(eb.case().when('status', '=', 'succeeded').then(1).else(0).end()).as('succeeded'),
      eb.fn.sum<number | string | null>(eb.case().when('status', '=', 'failed').then(1).else(0).end()).as('failed'),
      eb.fn.sum<number | string | null>(eb('to_page', '-', eb.ref('from_page'))).as('pages'),
    ])
    .executeTakeFirstOrThrow();
  return {
    documentsTotal: toNumber(docs.total),
    documentsSucceeded: toNumber(docs.succeeded),
    documentsPartial: toNumber(docs.partial),
    documentsFailed: toNumber(docs.failed),
    documentsCancelled: toNumber(docs.cancelled),
    pagesTotal: toNumber(docs.pages),
    pagesDone: toNumber(chunks.pages),
    chunksTotal: toNumber(docs.chunks),
    chunksSucceeded: toNumber(chunks.succeeded),
    chunksFailed: toNumber(chunks.failed),
  };
}

/** Jobs per status over every tenant (the `jobs_status` index), for metrics. */
export async function jobStatusCounts(db: Kysely<StoreTables>): Promise<Record<JobStatus, number>> {
  const rows = await db
    .selectFrom('jobs')
    .select((eb) => ['status', eb.fn.countAll<number | string>().as('n')])
    .groupBy('status')
    .execute();
  const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
  for (const row of rows) if (Object.hasOwn(counts, row.status)) counts[row.status as JobStatus] = toNumber(row.n);
  return counts;
}

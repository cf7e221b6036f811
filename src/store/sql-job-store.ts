import { sql, type Kysely, type Selectable } from 'kysely';
import { ReamError } from '../errors.ts';
import type { JsonObject } from '../json.ts';
import { fromJsonText, fromNullableJsonText, toJsonText, toNullableNumber, toNumber, type SqlFlavor } from '../sql/dialect.ts';
import { prepareQuery } from '../sql/prepared-query.ts';
import { TERMINAL_DOCUMENT_STATUSES } from './job-document-store.ts';
import {
  JOB_STATUSES,
  TERMINAL_JOB_STATUSES,
  UNFINISHED_JOB_STATUSES,
  type JobCondition,
  type JobPatch,
  type JobRecord,
  type JobStatus,
  type JobStore,
} from './job-store.ts';
import type { JobTables, JobsTable } from './jobs-schema.ts';
import { markJobDeleting, sqlJobDeletion } from './sql-job-deletion.ts';
import { sqlListJobs } from './sql-job-list.ts';

// Rows ↔ records: snake_case stays in SQL, camelCase in TypeScript (map names at the boundary).
function jobFromRow(row: Selectable<JobsTable>): JobRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    key: row.key,
    pipeline: row.pipeline,
    options: fromJsonText<JsonObject>(row.options),
    priority: toNumber(row.priority),
    status: row.status as JobStatus,
    error: fromNullableJsonText<JobRecord['error']>(row.error),
    createdAt: toNumber(row.created_at),
    startedAt: toNullableNumber(row.started_at),
    finishedAt: toNullableNumber(row.finished_at),
    retryGeneration: toNumber(row.retry_generation),
    webhook: row.webhook_url === null ? null : { url: row.webhook_url, ...(row.webhook_secret === null ? {} : { secret: row.webhook_secret }) },
    documentsSeq: toNumber(row.documents_seq),
  };
}

/**
 * Ids of the jobs whose deletion began before `before`, over the partial `jobs_deleting` index:
 * recovery asks it of every process every few minutes, and it scanned the whole table each time.
 */
export function jobsDeletingBeforeQuery(kysely: Kysely<unknown>, before: number) {
  return kysely.withTables<JobTables>().selectFrom('jobs').select('id').where('deleting_at', '<', before).orderBy('deleting_at');
}

/** The job port in dialect-neutral Kysely (SQLite and PostgreSQL). The tables must exist (`jobMigrations`). */
export function sqlJobStore(kysely: Kysely<unknown>, flavor: SqlFlavor): JobStore {
  const db = kysely.withTables<JobTables>();

  // Read by every task of every document (see prepared-query.ts). A job whose deletion has begun
  // is gone to every reader (`deleting_at`, sql-job-deletion.ts).
  const jobById = prepareQuery(db, 1, (db, id: string) => db.selectFrom('jobs').selectAll().where('id', '=', id).where('deleting_at', 'is', null));
  const getJob = async (id: string, options?: { deleting?: boolean }): Promise<JobRecord | undefined> => {
    const row = options?.deleting ? await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst() : await jobById.takeFirst([id]);
    return row && jobFromRow(row);
  };

  const findJobByKey = async (tenantId: string, key: string): Promise<JobRecord | undefined> => {
    const row = await db.selectFrom('jobs').selectAll().where('tenant_id', '=', tenantId).where('key', '=', key).where('deleting_at', 'is', null).executeTakeFirst();
    return row && jobFromRow(row);
  };

  return {
    getJob,
    findJobByKey,

    async createJob(job, now) {
      const inserted = await db
        .insertInto('jobs')
        .values({
          id: job.id,
          tenant_id: job.tenantId,
          key: job.key,
          pipeline: job.pipeline,
          options: toJsonText(job.options),
          priority: job.priority,
          status: 'queued',
          error: null,
          created_at: now,
          started_at: null,
          finished_at: null,
          webhook_url: job.webhook?.url ?? null,
          webhook_secret: job.webhook?.secret ?? null,
        })
        .onConflict((oc) => oc.doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return jobFromRow(inserted);
      // Idempotency: "unique per tenant when set" — a second create with the same key (a retried
      // request, a race between two) answers with the job the first one made.
      const existing = (job.key === null ? undefined : await findJobByKey(job.tenantId, job.key)) ?? (await getJob(job.id));
      if (!existing) throw new ReamError('internal', `job ${job.id} was neither created nor found`);
      return existing;
    },

    updateJob: (async (id: string, patch: JobPatch, condition?: JobCondition): Promise<JobRecord | undefined> => {
      const set = {
        ...(patch.status === undefined ? {} : { status: patch.status }),
        ...(patch.error === undefined ? {} : { error: patch.error === null ? null : toJsonText(patch.error) }),
        ...(patch.startedAt === undefined ? {} : { started_at: patch.startedAt }),
        ...(patch.finishedAt === undefined ? {} : { finished_at: patch.finishedAt }),
        ...(patch.retryGeneration === undefined ? {} : { retry_generation: patch.retryGeneration }),
        ...(patch.bumpDocumentsSeq ? { documents_seq: sql<number>`documents_seq + 1` } : {}),
        ...(patch.releaseKey ? { key: null } : {}),
        ...(patch.restoreKey === undefined ? {} : { key: patch.restoreKey }),
      };
      let update = db.updateTable('jobs').where('id', '=', id).where('deleting_at', 'is', null);
      // The condition is part of the UPDATE's WHERE: checked and applied in one statement, so two
      // racing callers cannot both see it hold (the second re-checks the row the first wrote).
      if (condition?.ifStatusIn !== undefined) update = update.where('status', 'in', [...condition.ifStatusIn, ''] /* '' is no status: an empty list never holds */);
      if (condition?.ifDocumentsSeq !== undefined) update = update.where('documents_seq', '=', condition.ifDocumentsSeq);
      if (condition?.ifDocumentsEnded) {
        const unfinished = db
          .selectFrom('job_documents')
          .select('job_documents.job_id')
          .where('job_documents.job_id', '=', id)
          .where('job_documents.status', 'not in', [...TERMINAL_DOCUMENT_STATUSES]);
        update = update.where((eb) => eb.not(eb.exists(unfinished)));
      }
      const row =
        Object.keys(set).length > 0
          ? await update.set(set).returningAll().executeTakeFirst()
          : condition === undefined
            ? await jobById.takeFirst([id])
            : // Nothing to set, but a condition to answer: a no-op write of the key checks it atomically.
              await update.set({ id }).returningAll().executeTakeFirst();
      if (row) return jobFromRow(row);
      if (condition === undefined) throw ReamError.nonRetryable('not_found', `no job ${id}`);
      return undefined;
    }) as JobStore['updateJob'],

    listJobs: sqlListJobs(kysely, flavor, jobFromRow),

    async listUnfinishedJobs() {
      const rows = await db.selectFrom('jobs').selectAll().where('status', 'in', [...UNFINISHED_JOB_STATUSES]).where('deleting_at', 'is', null).orderBy('created_at').orderBy('id').execute();
      return rows.map(jobFromRow);
    },

    async listJobsFinishedSince(since) {
      const rows = await db
        .selectFrom('jobs')
        .selectAll()
        .where('status', 'in', [...TERMINAL_JOB_STATUSES])
        .where('finished_at', '>=', since)
        .where('deleting_at', 'is', null)
        .orderBy('finished_at')
        .orderBy('id')
        .execute();
      return rows.map(jobFromRow);
    },

    // Jobs whose deletion was cut short among them: removing them again finishes their deletion.
    async listJobsFinishedBefore({ before, limit, tenantId, exceptTenants = [], after }) {
      let select = db.selectFrom('jobs').selectAll().where('status', 'in', [...TERMINAL_JOB_STATUSES]).where('finished_at', '<', before);
      if (after !== undefined) {
        select = select.where((eb) => eb.or([eb('finished_at', '>', after.finishedAt), eb.and([eb('finished_at', '=', after.finishedAt), eb('id', '>', after.id)])]));
      }
      if (tenantId !== undefined) select = select.where('tenant_id', '=', tenantId);
      else if (exceptTenants.length > 0) select = select.where('tenant_id', 'not in', [...exceptTenants]);
      const rows = await select.orderBy('finished_at').orderBy('id').limit(limit).execute();
      return rows.map(jobFromRow);
    },

    // A batch at a time, the job row last (its rows reference it `on delete cascade`, which takes
    // any a task wrote meanwhile): one statement timed out on a big job, every time.
    deleteJob: sqlJobDeletion(kysely, flavor),
    markJobDeleting: async (id) => (await markJobDeleting(kysely, id)) !== undefined,

    async listJobsDeletingBefore(before) {
      const rows = await jobsDeletingBeforeQuery(kysely, before).execute();
      return rows.map((row) => row.id);
    },

    async jobStatusCounts() {
      // Grouped over the `jobs_status` index; statuses with no job still appear, as 0.
      const rows = await db
        .selectFrom('jobs')
        .select((eb) => ['status', eb.fn.countAll<number | string>().as('n')])
        .where('deleting_at', 'is', null)
        .groupBy('status')
        .execute();
      const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
      for (const row of rows) if (Object.hasOwn(counts, row.status)) counts[row.status as JobStatus] = toNumber(row.n);
      return counts;
    },

    async oldestJobCreatedAt(status) {
      const row = await db.selectFrom('jobs').select((eb) => eb.fn.min('created_at').as('oldest')).where('status', '=', status).where('deleting_at', 'is', null).executeTakeFirst();
      return toNullableNumber(row?.oldest ?? null);
    },
  };
}

import { sql, type Kysely, type Selectable } from 'kysely';
import { ReamError } from '../errors.ts';
import type { NewEvent, ReamEvent } from '../events/types.ts';
import type {
  ApiKeyRecord,
  ChunkResultRecord,
  DocumentRecord,
  DocumentResultRecord,
  JobCounts,
  JobDocumentPatch,
  JobDocumentRecord,
  JobPatch,
  JobRecord,
  JobStatus,
  ListJobsQuery,
  NewJob,
  NewApiKey,
  NewJobDocument,
  Page,
  Store,
  UploadRecord,
  WorkerRecord,
} from './port.ts';
import { TERMINAL_JOB_STATUSES } from './port.ts';
import { clampLimit, isForeignKeyViolation, toJsonText, toNullableNumber, toNumber } from './sql.ts';
import { jobCounts, jobStatusCounts } from './sql-store-counts.ts';
import * as uploads from './sql-store-uploads.ts';
import * as workers from './sql-store-workers.ts';
import type { ApiKeysTable, StoreTables } from './store-schema.ts';
import {
  chunkResultFromRow,
  decodeCursor,
  documentFromRow,
  encodeCursor,
  eventFromRow,
  jobDocumentFromRow,
  jobFromRow,
  type EventData,
} from './store-rows.ts';

function apiKeyFromRow(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    role: row.role === 'admin' ? 'admin' : 'user',
    hash: row.hash,
    createdAt: toNumber(row.created_at),
    revokedAt: toNullableNumber(row.revoked_at),
  };
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;
const DEFAULT_EVENTS = 1_000;
const MAX_EVENTS = 10_000;
/** Rows per INSERT: keeps bound parameters far below SQLite's 32,766 and PostgreSQL's 65,535. */
const INSERT_BATCH = 200;

/**
 * The store port in dialect-neutral Kysely: SQLite today (see `SqliteStore`), PostgreSQL with
 * the same queries and a different dialect. The tables must exist (`storeMigrations`).
 */
export class SqlStore implements Store {
  readonly name: string;
  readonly #db: Kysely<StoreTables>;

  constructor(db: Kysely<unknown>, name: string) {
    this.#db = db.withTables<StoreTables>();
    this.name = name;
  }

  async createJob(job: NewJob, now: number): Promise<JobRecord> {
    const inserted = await this.#db
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
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return jobFromRow(inserted);
    // Idempotency: "unique per tenant when set" — a second create with the same key (a retried
    // request, a race between two) answers with the job the first one made.
    const existing = (job.key === null ? undefined : await this.findJobByKey(job.tenantId, job.key)) ?? (await this.getJob(job.id));
    if (!existing) throw new ReamError('internal', `job ${job.id} was neither created nor found`);
    return existing;
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const row = await this.#db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && jobFromRow(row);
  }

  async findJobByKey(tenantId: string, key: string): Promise<JobRecord | undefined> {
    const row = await this.#db
      .selectFrom('jobs')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('key', '=', key)
      .executeTakeFirst();
    return row && jobFromRow(row);
  }

  async updateJob(id: string, patch: JobPatch): Promise<JobRecord> {
    const set = {
      ...(patch.status === undefined ? {} : { status: patch.status }),
      ...(patch.error === undefined ? {} : { error: patch.error === null ? null : toJsonText(patch.error) }),
      ...(patch.startedAt === undefined ? {} : { started_at: patch.startedAt }),
      ...(patch.finishedAt === undefined ? {} : { finished_at: patch.finishedAt }),
      ...(patch.options === undefined ? {} : { options: toJsonText(patch.options) }),
    };
    const row =
      Object.keys(set).length === 0
        ? await this.#db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst()
        : await this.#db.updateTable('jobs').set(set).where('id', '=', id).returningAll().executeTakeFirst();
    if (!row) throw ReamError.nonRetryable('not_found', `no job ${id}`);
    return jobFromRow(row);
  }

  async listJobs(query: ListJobsQuery): Promise<Page<JobRecord>> {
    const limit = clampLimit(query.limit, DEFAULT_PAGE, MAX_PAGE);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw ReamError.nonRetryable('validation_failed', 'invalid cursor');
    let select = this.#db.selectFrom('jobs').selectAll().where('tenant_id', '=', query.tenantId);
    if (query.status !== undefined) select = select.where('status', '=', query.status);
    if (after) {
      // Newest first, ties broken by id: (created_at, id) < cursor, spelled out for portability.
      select = select.where((eb) =>
        eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)])]),
      );
    }
    const rows = await select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
    const items = rows.slice(0, limit).map(jobFromRow);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  async listUnfinishedJobs(): Promise<JobRecord[]> {
    const rows = await this.#db
      .selectFrom('jobs')
      .selectAll()
      .where('status', 'in', ['queued', 'running'])
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(jobFromRow);
  }

  async listJobsFinishedSince(since: number): Promise<JobRecord[]> {
    const rows = await this.#db
      .selectFrom('jobs')
      .selectAll()
      .where('status', 'in', [...TERMINAL_JOB_STATUSES])
      .where('finished_at', '>=', since)
      .orderBy('finished_at')
      .orderBy('id')
      .execute();
    return rows.map(jobFromRow);
  }

  async deleteJob(id: string): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('events').where('job_id', '=', id).execute();
      await trx.deleteFrom('document_results').where('job_id', '=', id).execute();
      await trx.deleteFrom('chunk_results').where('job_id', '=', id).execute();
      await trx.deleteFrom('job_documents').where('job_id', '=', id).execute();
      const deleted = await trx.deleteFrom('jobs').where('id', '=', id).executeTakeFirst();
      return deleted.numDeletedRows > 0n;
    });
  }

  async putDocument(doc: Omit<DocumentRecord, 'createdAt'>, now: number): Promise<DocumentRecord> {
    // "Content is stored once": unique per (tenant, sha256); a second put returns the first record.
    await this.#db
      .insertInto('documents')
      .values({
        id: doc.id,
        tenant_id: doc.tenantId,
        sha256: doc.sha256,
        name: doc.name,
        size: doc.size,
        media_type: doc.mediaType,
        created_at: now,
      })
      .onConflict((oc) => oc.columns(['tenant_id', 'sha256']).doNothing())
      .execute();
    const row = await this.#db
      .selectFrom('documents')
      .selectAll()
      .where('tenant_id', '=', doc.tenantId)
      .where('sha256', '=', doc.sha256)
      .executeTakeFirstOrThrow();
    return documentFromRow(row);
  }

  async getDocument(id: string): Promise<DocumentRecord | undefined> {
    const row = await this.#db.selectFrom('documents').selectAll().where('id', '=', id).executeTakeFirst();
    return row && documentFromRow(row);
  }

  async addJobDocuments(docs: readonly NewJobDocument[]): Promise<void> {
    if (docs.length === 0) return;
    try {
      await this.#db.transaction().execute(async (trx) => {
        for (let i = 0; i < docs.length; i += INSERT_BATCH) {
          const values = docs.slice(i, i + INSERT_BATCH).map((d) => ({
            job_id: d.jobId,
            document_id: d.documentId,
            ordinal: d.ordinal,
            source: d.source,
          }));
          // "A (jobId, documentId) pair that exists already is left as it is."
          await trx
            .insertInto('job_documents')
            .values(values)
            .onConflict((oc) => oc.columns(['job_id', 'document_id']).doNothing())
            .execute();
        }
      });
    } catch (error) {
      if (isForeignKeyViolation(error)) throw ReamError.nonRetryable('not_found', 'no such job or document', { cause: error });
      throw error;
    }
  }

  async getJobDocument(jobId: string, documentId: string): Promise<JobDocumentRecord | undefined> {
    const row = await this.#db
      .selectFrom('job_documents')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('document_id', '=', documentId)
      .executeTakeFirst();
    return row && jobDocumentFromRow(row);
  }

  async updateJobDocument(jobId: string, documentId: string, patch: JobDocumentPatch): Promise<JobDocumentRecord> {
    const json = (value: unknown): string | null => (value === null ? null : toJsonText(value as object));
    const set = {
      ...(patch.status === undefined ? {} : { status: patch.status }),
      ...(patch.pagesTotal === undefined ? {} : { pages_total: patch.pagesTotal }),
      ...(patch.chunksTotal === undefined ? {} : { chunks_total: patch.chunksTotal }),
      ...(patch.info === undefined ? {} : { info: json(patch.info) }),
      ...(patch.error === undefined ? {} : { error: json(patch.error) }),
      ...(patch.startedAt === undefined ? {} : { started_at: patch.startedAt }),
      ...(patch.finishedAt === undefined ? {} : { finished_at: patch.finishedAt }),
    };
    const where = this.#db.selectFrom('job_documents').selectAll().where('job_id', '=', jobId).where('document_id', '=', documentId);
    const row =
      Object.keys(set).length === 0
        ? await where.executeTakeFirst()
        : await this.#db
            .updateTable('job_documents')
            .set(set)
            .where('job_id', '=', jobId)
            .where('document_id', '=', documentId)
            .returningAll()
            .executeTakeFirst();
    if (!row) throw ReamError.nonRetryable('not_found', `no document ${documentId} in job ${jobId}`);
    return jobDocumentFromRow(row);
  }

  async listJobDocuments(jobId: string): Promise<JobDocumentRecord[]> {
    const rows = await this.#db.selectFrom('job_documents').selectAll().where('job_id', '=', jobId).orderBy('ordinal').execute();
    return rows.map(jobDocumentFromRow);
  }

  async putChunkResult(result: ChunkResultRecord): Promise<void> {
    // A repeated task writes its checkpoint again: the upsert replaces, so repeats are harmless.
    await this.#db
      .insertInto('chunk_results')
      .values({
        job_id: result.jobId,
        document_id: result.documentId,
        idx: result.index,
        from_page: result.from,
        to_page: result.to,
        status: result.status,
        output: result.output === null ? null : toJsonText(result.output),
        error: result.error === null ? null : toJsonText(result.error),
        duration_ms: Math.round(result.durationMs),
      })
      .onConflict((oc) =>
        oc.columns(['job_id', 'document_id', 'idx']).doUpdateSet((eb) => ({
          from_page: eb.ref('excluded.from_page'),
          to_page: eb.ref('excluded.to_page'),
          status: eb.ref('excluded.status'),
          output: eb.ref('excluded.output'),
          error: eb.ref('excluded.error'),
          duration_ms: eb.ref('excluded.duration_ms'),
        })),
      )
      .execute();
  }

  async listChunkResults(jobId: string, documentId: string): Promise<ChunkResultRecord[]> {
    const rows = await this.#db
      .selectFrom('chunk_results')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('document_id', '=', documentId)
      .orderBy('idx')
      .execute();
    return rows.map(chunkResultFromRow);
  }

  async putDocumentResult(result: DocumentResultRecord): Promise<void> {
    await this.#db
      .insertInto('document_results')
      .values({ job_id: result.jobId, document_id: result.documentId, output: toJsonText(result.output) })
      .onConflict((oc) => oc.columns(['job_id', 'document_id']).doUpdateSet((eb) => ({ output: eb.ref('excluded.output') })))
      .execute();
  }

  async getDocumentResult(jobId: string, documentId: string): Promise<DocumentResultRecord | undefined> {
    const row = await this.#db
      .selectFrom('document_results')
      .select('output')
      .where('job_id', '=', jobId)
      .where('document_id', '=', documentId)
      .executeTakeFirst();
    return row && { jobId, documentId, output: JSON.parse(row.output) as DocumentResultRecord['output'] };
  }

  jobCounts(jobId: string): Promise<JobCounts> {
    return jobCounts(this.#db, jobId);
  }

  async appendEvent(event: NewEvent): Promise<ReamEvent> {
    const { type, jobId, tenantId, at, ...rest } = event;
    const data: EventData = rest;
    return this.#db.transaction().execute(async (trx) => {
      // "seq is per job and gapless": the job row's counter is bumped in the same transaction as
      // the insert, so a rollback returns the number. The row update also serialises concurrent
      // appends to one job (a row lock in PostgreSQL, the single connection in SQLite).
      const counter = await trx
        .updateTable('jobs')
        .set({ event_seq: sql<number>`event_seq + 1` })
        .where('id', '=', jobId)
        .returning('event_seq')
        .executeTakeFirst();
      if (!counter) throw ReamError.nonRetryable('not_found', `no job ${jobId}`);
      const seq = toNumber(counter.event_seq);
      await trx.insertInto('events').values({ job_id: jobId, seq, tenant_id: tenantId, type, at, data: toJsonText(data) }).execute();
      return { seq, type, jobId, tenantId, at, ...data };
    });
  }

  async listEvents(jobId: string, afterSeq: number, limit?: number): Promise<ReamEvent[]> {
    const rows = await this.#db
      .selectFrom('events')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(clampLimit(limit, DEFAULT_EVENTS, MAX_EVENTS))
      .execute();
    return rows.map(eventFromRow);
  }

  async createApiKey(key: NewApiKey, now: number): Promise<ApiKeyRecord> {
    const row = await this.#db
      .insertInto('api_keys')
      .values({ id: key.id, tenant_id: key.tenantId, name: key.name, role: key.role, hash: key.hash, created_at: now, revoked_at: null })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw ReamError.nonRetryable('validation_failed', `API key ${key.id} exists already`);
    return apiKeyFromRow(row);
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.#db.selectFrom('api_keys').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row && apiKeyFromRow(row);
  }

  async listApiKeys(tenantId?: string): Promise<ApiKeyRecord[]> {
    let select = this.#db.selectFrom('api_keys').selectAll();
    if (tenantId !== undefined) select = select.where('tenant_id', '=', tenantId);
    const rows = await select.orderBy('created_at').orderBy('id').execute();
    return rows.map(apiKeyFromRow);
  }

  async revokeApiKey(id: string, now: number): Promise<ApiKeyRecord> {
    await this.#db.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
    const row = await this.#db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw ReamError.nonRetryable('not_found', `no API key ${id}`);
    return apiKeyFromRow(row);
  }

  putWorker(worker: WorkerRecord): Promise<void> {
    return workers.putWorker(this.#db, worker);
  }

  listWorkers(seenSince: number): Promise<WorkerRecord[]> {
    return workers.listWorkers(this.#db, seenSince);
  }

  removeWorker(id: string): Promise<void> {
    return workers.removeWorker(this.#db, id);
  }

  jobStatusCounts(): Promise<Record<JobStatus, number>> {
    return jobStatusCounts(this.#db);
  }

  putUpload(record: UploadRecord): Promise<void> {
    return uploads.putUpload(this.#db, record);
  }

  getUpload(id: string): Promise<UploadRecord | undefined> {
    return uploads.getUpload(this.#db, id);
  }

  deleteUpload(id: string): Promise<boolean> {
    return uploads.deleteUpload(this.#db, id);
  }

  deleteFailedUploadsBefore(before: number): Promise<number> {
    return uploads.deleteFailedUploadsBefore(this.#db, before);
  }

  /** The database belongs to whoever opened it; the store holds nothing else to release. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

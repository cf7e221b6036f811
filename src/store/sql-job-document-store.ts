import type { Insertable, Kysely, Selectable } from 'kysely';
import { ReamError } from '../errors.ts';
import type { JsonValue } from '../json.ts';
import { fromJsonText, fromNullableJsonText, isForeignKeyViolation, toJsonText, toNullableNumber, toNumber } from '../sql/dialect.ts';
import {
  type ChunkResultRecord,
  type ChunkStateRecord,
  type ChunkStatus,
  type DocumentResultRecord,
  type DocumentStatus,
  type JobDocumentRecord,
  type JobDocumentStore,
  type ReportFileRecord,
  UNFINISHED_DOCUMENT_STATUSES,
} from './job-document-store.ts';
import type { ChunkResultsTable, JobDocumentTables, JobDocumentsTable, JobReportFilesTable } from './job-documents-schema.ts';
import type { JobsTable } from './jobs-schema.ts';
import type { StorageReservationTables } from './tenants-schema.ts';
import { prepareQuery } from '../sql/prepared-query.ts';
import { jobCountsReader } from './sql-job-counts.ts';

/** Rows per INSERT: keeps bound parameters far below SQLite's 32,766 and PostgreSQL's 65,535. */
const INSERT_BATCH = 200;
/** Times a document's report files are recorded again when another process recorded some of the job's at once (a name or `seq` taken meanwhile). */
const REPORT_FILE_TRIES = 8;

/** `report.pdf` → [`report`, `.pdf`]. */
function splitExt(name: string): [string, string] {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
}

function reportFileFromRow(row: Selectable<JobReportFilesTable>): ReportFileRecord {
  return {
    seq: toNumber(row.seq), name: row.name, documentId: row.document_id, row: toNumber(row.row), sha256: row.sha256, size: toNumber(row.size), mediaType: row.media_type,
  };
}

function jobDocumentFromRow(row: Selectable<JobDocumentsTable>): JobDocumentRecord {
  return {
    jobId: row.job_id,
    documentId: row.document_id,
    ordinal: toNumber(row.ordinal),
    source: row.source,
    status: row.status as DocumentStatus,
    pagesTotal: toNullableNumber(row.pages_total),
    chunksTotal: toNullableNumber(row.chunks_total),
    info: fromNullableJsonText<JsonValue>(row.info),
    error: fromNullableJsonText<JobDocumentRecord['error']>(row.error),
    startedAt: toNullableNumber(row.started_at),
    finishedAt: toNullableNumber(row.finished_at),
    ...(row.parent_id ? { parentId: row.parent_id } : {}),
  };
}

/**
 * The output as stored: a `body` text and a `csv` text go to their own columns, the rest to
 * `output` (see `ChunkResultRecord.output`).
 */
function splitBody(output: JsonValue | null): { output: JsonValue | null; body: string | null; csv: string | null } {
  if (output === null || typeof output !== 'object' || Array.isArray(output) || typeof output.body !== 'string') return { output, body: null, csv: null };
  const { body, csv, ...rest } = output;
  if (typeof csv === 'string') return { output: rest, body, csv };
  return { output: csv === undefined ? rest : { ...rest, csv }, body, csv: null };
}

/** The output with its `body` text (last, where `packChunk` puts it) and its `csv` text put back, as read. */
function joinBody(output: string | null, body: string | null | undefined, csv: string | null | undefined): JsonValue | null {
  const parsed = fromNullableJsonText<JsonValue>(output);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return parsed;
  const withCsv = typeof csv === 'string' ? { ...parsed, csv } : parsed;
  return typeof body === 'string' ? { ...withCsv, body } : withCsv;
}

function chunkResultFromRow(row: Omit<Selectable<ChunkResultsTable>, 'body' | 'csv'> & { body?: string | null; csv?: string | null }): ChunkResultRecord {
  return {
    jobId: row.job_id,
    documentId: row.document_id,
    index: toNumber(row.idx),
    from: toNumber(row.from_page),
    to: toNumber(row.to_page),
    status: row.status as ChunkStatus,
    output: joinBody(row.output, row.body, row.csv),
    error: fromNullableJsonText<ChunkResultRecord['error']>(row.error),
    durationMs: toNumber(row.duration_ms),
  };
}

function chunkStateFromRow(row: Pick<Selectable<ChunkResultsTable>, 'idx' | 'from_page' | 'to_page' | 'status'>): ChunkStateRecord {
  return { index: toNumber(row.idx), from: toNumber(row.from_page), to: toNumber(row.to_page), status: row.status as ChunkStatus };
}

/**
 * The job-document port in dialect-neutral Kysely (SQLite and PostgreSQL). The tables must
 * exist (`jobDocumentMigrations`, after jobs and documents).
 */
export function sqlJobDocumentStore(kysely: Kysely<unknown>): JobDocumentStore {
  // documents is read (never written) to tell whether a blob is still some document's content.
  const db = kysely.withTables<JobDocumentTables & StorageReservationTables & { jobs: Pick<JobsTable, 'id' | 'tenant_id' | 'created_at' | 'deleting_at'>; documents: { id: string; sha256: string; deleted_at: number | null } }>();
  // The statements every task of every document runs (see prepared-query.ts).
  const jobDocumentById = prepareQuery(db, 2, (db, jobId: string, documentId: string) =>
    db.selectFrom('job_documents').selectAll().where('job_id', '=', jobId).where('document_id', '=', documentId));
  const unfinishedDocument = prepareQuery(db, 1, (db, jobId: string) =>
    db.selectFrom('job_documents').select('document_id').where('job_id', '=', jobId).where('status', 'in', [...UNFINISHED_DOCUMENT_STATUSES]).limit(1));
  const json = (value: unknown): string | null => (value === null ? null : toJsonText(value as object));

  return {
    async addJobDocuments(docs) {
      if (docs.length === 0) return;
      try {
        await db.transaction().execute(async (trx) => {
          for (let i = 0; i < docs.length; i += INSERT_BATCH) {
            const values = docs.slice(i, i + INSERT_BATCH).map((d) => ({
              job_id: d.jobId,
              document_id: d.documentId,
              ordinal: d.ordinal,
              source: d.source,
              parent_id: d.parentId ?? null,
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
    },

    async getJobDocument(jobId, documentId) {
      const row = await jobDocumentById.takeFirst([jobId, documentId]);
      return row && jobDocumentFromRow(row);
    },

    async updateJobDocument(jobId, documentId, patch, condition = {}) {
      const set = {
        ...(patch.status === undefined ? {} : { status: patch.status }),
        ...(patch.pagesTotal === undefined ? {} : { pages_total: patch.pagesTotal }),
        ...(patch.chunksTotal === undefined ? {} : { chunks_total: patch.chunksTotal }),
        ...(patch.info === undefined ? {} : { info: json(patch.info) }),
        ...(patch.error === undefined ? {} : { error: json(patch.error) }),
        ...(patch.startedAt === undefined ? {} : { started_at: patch.startedAt }),
        ...(patch.finishedAt === undefined ? {} : { finished_at: patch.finishedAt }),
      };
      const current = (): Promise<Selectable<JobDocumentsTable> | undefined> =>
        db.selectFrom('job_documents').selectAll().where('job_id', '=', jobId).where('document_id', '=', documentId).executeTakeFirst();
      const { ifStatusIn } = condition;
      const row =
        Object.keys(set).length === 0
          ? await current()
          : ((await db
              .updateTable('job_documents')
              .set(set)
              .where('job_id', '=', jobId)
              .where('document_id', '=', documentId)
              .$if(ifStatusIn !== undefined, (query) => query.where('status', 'in', [...(ifStatusIn ?? [])]))
              .returningAll()
              .executeTakeFirst()) ?? (ifStatusIn === undefined ? undefined : await current())); // refused: the row as it stands
      if (!row) throw ReamError.nonRetryable('not_found', `no document ${documentId} in job ${jobId}`);
      return jobDocumentFromRow(row);
    },

    async listJobDocuments(jobId, page = {}) {
      const { after, limit, parentId, statuses } = page;
      const rows = await db
        .selectFrom('job_documents')
        .selectAll()
        .where('job_id', '=', jobId)
        .$if(parentId !== undefined, (query) => query.where('parent_id', '=', parentId ?? ''))
        .$if(statuses !== undefined && statuses.length > 0, (query) => query.where('status', 'in', [...(statuses ?? [])]))
        .$if(after !== undefined, (query) =>
          query.where((eb) => {
            const ordinal = after?.ordinal ?? 0;
            const documentId = after?.documentId;
            if (documentId === undefined) return eb('ordinal', '>', ordinal);
            return eb.or([eb('ordinal', '>', ordinal), eb.and([eb('ordinal', '=', ordinal), eb('document_id', '>', documentId)])]);
          }),
        )
        .orderBy('ordinal')
        .orderBy('document_id')
        .$if(limit !== undefined, (query) => query.limit(limit ?? 0))
        .execute();
      return rows.map(jobDocumentFromRow);
    },

    async nextOrdinal(jobId) {
      const row = await db.selectFrom('job_documents').where('job_id', '=', jobId).select((eb) => eb.fn.max('ordinal').as('last')).executeTakeFirst();
      const last = row?.last;
      return last === null || last === undefined ? 0 : toNumber(last) + 1;
    },

    async hasUnfinishedDocuments(jobId) {
      return (await unfinishedDocument.takeFirst([jobId])) !== undefined;
    },

    async putChunkProgress(jobId, documentId, index, pagesRead) {
      await db
        .insertInto('chunk_progress')
        .values({ job_id: jobId, document_id: documentId, idx: index, pages_read: Math.max(0, Math.floor(pagesRead)) })
        .onConflict((oc) => oc.columns(['job_id', 'document_id', 'idx']).doUpdateSet((eb) => ({
          // The larger count (SQLite's max(a, b) is PostgreSQL's greatest: a case is both's).
          pages_read: eb.case().when('excluded.pages_read', '>', eb.ref('chunk_progress.pages_read')).then(eb.ref('excluded.pages_read')).else(eb.ref('chunk_progress.pages_read')).end(),
        })))
        .execute()
        .catch((error: unknown) => {
          // The job is gone (deleted while its chunk ran): there is nothing to count progress for.
          if (!isForeignKeyViolation(error)) throw error;
        });
    },

    async putChunkResult(result) {
      // A repeated task writes its checkpoint again: the upsert replaces, so repeats are harmless.
      const { output, body, csv } = splitBody(result.output);
      await db
        .insertInto('chunk_results')
        .values({
          job_id: result.jobId,
          document_id: result.documentId,
          idx: result.index,
          from_page: result.from,
          to_page: result.to,
          status: result.status,
          output: json(output),
          body,
          csv,
          error: json(result.error),
          duration_ms: Math.round(result.durationMs),
        })
        .onConflict((oc) =>
          oc.columns(['job_id', 'document_id', 'idx']).doUpdateSet((eb) => ({
            from_page: eb.ref('excluded.from_page'),
            to_page: eb.ref('excluded.to_page'),
            status: eb.ref('excluded.status'),
            output: eb.ref('excluded.output'),
            body: eb.ref('excluded.body'),
            csv: eb.ref('excluded.csv'),
            error: eb.ref('excluded.error'),
            duration_ms: eb.ref('excluded.duration_ms'),
          })),
        )
        .execute();
    },

    async listChunkResults(jobId, documentId) {
      const rows = await db
        .selectFrom('chunk_results')
        .selectAll()
        .where('job_id', '=', jobId)
        .where('document_id', '=', documentId)
        .orderBy('idx')
        .execute();
      return rows.map(chunkResultFromRow);
    },

    async getChunkResult(jobId, documentId, index, options) {
      const columns = ['job_id', 'document_id', 'idx', 'from_page', 'to_page', 'status', 'output', 'error', 'duration_ms'] as const;
      const row = await db
        .selectFrom('chunk_results')
        .select([...columns, ...(options?.withoutBody ? [] : (['body'] as const)), ...(options?.withCsv ? (['csv'] as const) : [])])
        .where('job_id', '=', jobId)
        .where('document_id', '=', documentId)
        .where('idx', '=', index)
        .executeTakeFirst();
      return row ? chunkResultFromRow(row) : undefined;
    },

    async getChunkState(jobId, documentId, index) {
      const row = await db
        .selectFrom('chunk_results')
        .select(['idx', 'from_page', 'to_page', 'status'])
        .where('job_id', '=', jobId)
        .where('document_id', '=', documentId)
        .where('idx', '=', index)
        .executeTakeFirst();
      return row ? chunkStateFromRow(row) : undefined;
    },

    async listChunkStates(jobId, documentId) {
      const rows = await db
        .selectFrom('chunk_results')
        .select(['idx', 'from_page', 'to_page', 'status'])
        .where('job_id', '=', jobId)
        .where('document_id', '=', documentId)
        .orderBy('idx')
        .execute();
      return rows.map(chunkStateFromRow);
    },

    async putJobArtifacts(jobId, artifacts, releasing) {
      const unique = [...new Map(artifacts.map((artifact) => [artifact.sha256, artifact])).values()];
      if (unique.length === 0) {
        if (releasing !== undefined) await db.deleteFrom('storage_reservations').where('id', '=', releasing).execute();
        return;
      }
      // In batches: a table of 16,384 rows has as many reports, and one INSERT of them all binds
      // more parameters than SQLite takes (its merge failed with "too many SQL variables").
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < unique.length; i += INSERT_BATCH) {
          await trx
            .insertInto('job_artifacts')
            .values(unique.slice(i, i + INSERT_BATCH).map(({ sha256, size }) => ({ job_id: jobId, sha256, size })))
            .onConflict((oc) => oc.columns(['job_id', 'sha256']).doNothing())
            .execute();
        }
        // The room the bytes held goes as they are counted: no reader sees them twice or not at all.
        if (releasing !== undefined) await trx.deleteFrom('storage_reservations').where('id', '=', releasing).execute();
      });
    },

    async putJobReportFiles(jobId, documentId, files) {
      const record = (): Promise<void> => db.transaction().execute(async (trx) => {
        await trx.deleteFrom('job_report_files').where('job_id', '=', jobId).where('document_id', '=', documentId).execute();
        if (files.length === 0) return;
        const last = await trx.selectFrom('job_report_files').select((eb) => eb.fn.max('seq').as('seq')).where('job_id', '=', jobId).executeTakeFirst();
        let seq = toNumber(last?.seq ?? 0);
        // A base this document takes for its files (`-2` when another document's holds it), by the base it names.
        const bases = new Map<string, string>();
        const taken = new Set<string>();
        // Which of its own bases other documents hold, asked a batch at a time (a table has thousands); a suffix is probed one by one.
        const held = new Set<string>();
        const keys = [...new Set(files.map((file) => splitExt(file.name)[0].toLowerCase()))];
        for (let i = 0; i < keys.length; i += INSERT_BATCH) {
          const rows = await trx.selectFrom('job_report_files').select('base_key').distinct().where('job_id', '=', jobId).where('base_key', 'in', keys.slice(i, i + INSERT_BATCH)).execute();
          for (const row of rows) held.add(row.base_key);
        }
        /** Whether another document holds this base (a suffixed one may be another's own base: rare, asked alone). */
        const heldElsewhere = async (key: string): Promise<boolean> =>
          held.has(key) || (await trx.selectFrom('job_report_files').select('seq').where('job_id', '=', jobId).where('base_key', '=', key).limit(1).executeTakeFirst()) !== undefined;
        const baseOf = async (base: string): Promise<string> => {
          let unique = bases.get(base);
          if (unique !== undefined) return unique;
          const key = base.toLowerCase();
          // The suffixes other documents took for this base, in one query.
          const suffixed = held.has(key)
            ? new Set((await trx.selectFrom('job_report_files').select('base_key').distinct().where('job_id', '=', jobId).where('root_key', '=', key).execute()).map((row) => row.base_key))
            : new Set<string>();
          for (let n = 1; ; n++) {
            unique = n === 1 ? base : `${base}-${n}`;
            const candidate = unique.toLowerCase();
            if (taken.has(candidate) || suffixed.has(candidate)) continue;
            if (n === 1 ? !held.has(candidate) : !(await heldElsewhere(candidate))) break;
          }
          bases.set(base, unique);
          taken.add(unique.toLowerCase());
          return unique;
        };
        const rows: Insertable<JobReportFilesTable>[] = [];
        for (const file of files) {
          const [base, ext] = splitExt(file.name);
          const unique = await baseOf(base);
          const name = `${unique}${ext}`;
          rows.push({
            job_id: jobId, seq: ++seq, name, name_key: name.toLowerCase(), base_key: unique.toLowerCase(), root_key: base.toLowerCase(), document_id: documentId,
            row: file.row, sha256: file.sha256, size: file.size, media_type: file.mediaType,
          });
        }
        for (let i = 0; i < rows.length; i += INSERT_BATCH) await trx.insertInto('job_report_files').values(rows.slice(i, i + INSERT_BATCH)).execute();
      });
      for (let attempt = 1; ; attempt++) {
        try {
          return await record();
        } catch (error) {
          // Another process recorded files of the job at once: a name or seq it took clashes. Again, seeing them.
          if (attempt >= REPORT_FILE_TRIES || isForeignKeyViolation(error)) throw error;
        }
      }
    },

    async listJobReportFiles(jobId, query = {}) {
      let select = db.selectFrom('job_report_files').selectAll().where('job_id', '=', jobId);
      if (query.documentId !== undefined) select = select.where('document_id', '=', query.documentId);
      if (query.row !== undefined) select = select.where('row', '=', query.row);
      if (query.afterSeq !== undefined) select = select.where('seq', '>', query.afterSeq);
      if (query.limit !== undefined) select = select.limit(query.limit);
      return (await select.orderBy('seq').execute()).map(reportFileFromRow);
    },

    async getJobReportFile(jobId, name) {
      const row = await db.selectFrom('job_report_files').selectAll().where('job_id', '=', jobId).where('name_key', '=', name.toLowerCase()).executeTakeFirst();
      return row && row.name === name ? reportFileFromRow(row) : undefined;
    },

    async jobArtifactBlobs(jobId) {
      const rows = await db.selectFrom('job_artifacts').select('sha256').where('job_id', '=', jobId).orderBy('sha256').execute();
      return rows.map((row) => row.sha256);
    },

    async tenantHasArtifact(tenantId, sha256) {
      const row = await db.selectFrom('job_artifacts').innerJoin('jobs', 'jobs.id', 'job_artifacts.job_id').select('job_artifacts.job_id')
        .where('job_artifacts.sha256', '=', sha256).where('jobs.tenant_id', '=', tenantId).limit(1).executeTakeFirst();
      return row !== undefined;
    },

    async blobInUse(sha256) {
      // A job under deletion keeps none: a merge that recorded a report after its deletion began
      // (and after that read the job's reports) found the blob its own, kept it, and the job's row
      // took the record with it, leaving the blob to no one.
      const artifact = await db.selectFrom('job_artifacts').innerJoin('jobs', 'jobs.id', 'job_artifacts.job_id').select('job_artifacts.job_id')
        .where('job_artifacts.sha256', '=', sha256).where('jobs.deleting_at', 'is', null).limit(1).executeTakeFirst();
      if (artifact) return true;
      const live = await db.selectFrom('documents').select('id').where('sha256', '=', sha256).where('deleted_at', 'is', null).limit(1).executeTakeFirst();
      return live !== undefined;
    },

    async putDocumentResult(result) {
      await db
        .insertInto('document_results')
        .values({ job_id: result.jobId, document_id: result.documentId, output: resultText(result.output) })
        .onConflict((oc) => oc.columns(['job_id', 'document_id']).doUpdateSet((eb) => ({ output: eb.ref('excluded.output') })))
        .execute();
    },

    async getDocumentResult(jobId, documentId) {
      const row = await db
        .selectFrom('document_results')
        .select('output')
        .where('job_id', '=', jobId)
        .where('document_id', '=', documentId)
        .executeTakeFirst();
      return row && { jobId, documentId, output: fromJsonText<DocumentResultRecord['output']>(row.output) };
    },

    jobCounts: jobCountsReader(db),

    async latestJobOfDocument(documentId, tenantId) {
      // Over the job_documents_document index: a document is in few jobs.
      const row = await db
        .selectFrom('job_documents')
        .innerJoin('jobs', 'jobs.id', 'job_documents.job_id')
        .select('jobs.id')
        .where('job_documents.document_id', '=', documentId)
        .where('jobs.tenant_id', '=', tenantId)
        .where('jobs.deleting_at', 'is', null)
        .orderBy('jobs.created_at', 'desc')
        .orderBy('jobs.id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row?.id;
    },
  };
}

/**
 * A document's result as stored: one JSON text. A text longer than a JavaScript string holds
 * (536,870,888 characters, some 5,400 dense pages) cannot be written so: that is the document's
 * own limit, not a passing failure, where it was retried as `internal` (Invalid string length).
 */
function resultText(output: JsonValue): string {
  try {
    return toJsonText(output);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw ReamError.nonRetryable('resource_limit', 'the document\'s result is too large to store: its text and fields come to more than 536,870,888 characters; split the file into smaller ones', { cause: error });
  }
}

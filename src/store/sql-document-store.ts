import { sql, type Kysely, type Selectable } from 'kysely';
import { toNumber } from '../sql/dialect.ts';
import { prepareQuery } from '../sql/prepared-query.ts';
import type { DocumentRecord, DocumentStore } from './document-store.ts';
import { UNFINISHED_JOB_STATUSES } from './job-store.ts';
import type { DocumentTables, DocumentsTable } from './documents-schema.ts';
import { sqlContentLock } from './sql-content-lock.ts';

function documentFromRow(row: Selectable<DocumentsTable>): DocumentRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    sha256: row.sha256,
    name: row.name,
    size: toNumber(row.size),
    mediaType: row.media_type,
    createdAt: toNumber(row.created_at),
    ...(row.deleted_at === null ? {} : { deletedAt: toNumber(row.deleted_at) }),
  };
}

/** The document port in dialect-neutral Kysely (SQLite and PostgreSQL). The table must exist (`documentMigrations`). */
export function sqlDocumentStore(kysely: Kysely<unknown>): DocumentStore {
  // job_documents and jobs are read (never written) to tell whether a job uses a document.
  // job_artifacts too: a job's report may have the same bytes as a document.
  // storage_reservations: a store's reservation goes in the transaction that records its document.
  const db = kysely.withTables<DocumentTables & { job_documents: { job_id: string; document_id: string }; jobs: { id: string; status: string }; job_artifacts: { job_id: string; sha256: string }; storage_reservations: { id: string } }>();
  // Read by every task of every document (see prepared-query.ts).
  const documentById = prepareQuery(db, 1, (db, id: string) => db.selectFrom('documents').selectAll().where('id', '=', id));
  const liveDocumentById = prepareQuery(db, 1, (db, id: string) => db.selectFrom('documents').selectAll().where('id', '=', id).where('deleted_at', 'is', null));
  const withContentLock = sqlContentLock(kysely);
  const unfinishedUse = (id: string) => db.selectFrom('job_documents')
    .innerJoin('jobs', 'jobs.id', 'job_documents.job_id')
    .select('job_documents.job_id')
    .where('job_documents.document_id', '=', id)
    .where('jobs.status', 'in', UNFINISHED_JOB_STATUSES);

  /**
   * A live document no job names loses its row; one only finished jobs name is marked deleted
   * (their rows reference it). Each is one conditional statement: a job that attaches it
   * meanwhile either came first (and the document stays) or finds it gone.
   */
  const deleteOrMark = async (id: string, now: number, storedAt?: number) => {
    // Given, only as last stored then: stored again since, the document is another request's too.
    const storedThen = storedAt === undefined ? sql<boolean>`1 = 1` : sql<boolean>`coalesce(stored_at, created_at) = ${storedAt}`;
    const record = await db.deleteFrom('documents')
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .where(storedThen)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('job_documents').select('job_id').where('document_id', '=', id))))
      .returningAll()
      .executeTakeFirst()
      ?? await db.updateTable('documents')
        .set({ deleted_at: now })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .where(storedThen)
        .where((eb) => eb.not(eb.exists(unfinishedUse(id))))
        .returningAll()
        .executeTakeFirst();
    // "when no other document (any tenant) references the same blob": live documents only.
    const blobUnused = async () => record !== undefined
      && (await db.selectFrom('documents').select('id').where('sha256', '=', record.sha256).where('deleted_at', 'is', null).limit(1).executeTakeFirst()) === undefined
      && (await db.selectFrom('job_artifacts').select('job_id').where('sha256', '=', record.sha256).limit(1).executeTakeFirst()) === undefined;
    return { record, blobUnused };
  };

  /** Inserts the record, or answers the live one of its content (see `putDocument`). */
  const putDocumentIn = async (from: typeof db, doc: Omit<DocumentRecord, 'createdAt' | 'deletedAt'>, now: number): Promise<DocumentRecord> => {
    // "Content is stored once": unique per (tenant, sha256); a second put returns the first record.
    const inserted = await from
      .insertInto('documents')
      .values({
        id: doc.id,
        tenant_id: doc.tenantId,
        sha256: doc.sha256,
        name: doc.name,
        size: doc.size,
        media_type: doc.mediaType,
        created_at: now,
        stored_at: now,
      })
      // A deleted record of this content (finished jobs name it) comes back as if stored now.
      .onConflict((oc) => oc.columns(['tenant_id', 'sha256'])
        .doUpdateSet({ name: doc.name, size: doc.size, media_type: doc.mediaType, created_at: now, stored_at: now, deleted_at: null })
        .where('documents.deleted_at', 'is not', null))
      .executeTakeFirst();
    // A live record of this content is answered as it is, but stored again now: retention counts
    // from here. Its mark always moves on, by 1 ms when it is `now` already (stored twice in one
    // ms, or by a process whose clock is behind): a request that stored it first and takes it
    // back (its submit failed) sees another one stored it since, and keeps it (`deleteDocument`).
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) {
      await from.updateTable('documents')
        .set({ stored_at: sql<number>`case when stored_at is null or stored_at < ${now} then ${now} else stored_at + 1 end` })
        .where('tenant_id', '=', doc.tenantId).where('sha256', '=', doc.sha256).where('deleted_at', 'is', null)
        .execute();
    }
    const row = await from
      .selectFrom('documents')
      .selectAll()
      .where('tenant_id', '=', doc.tenantId)
      .where('sha256', '=', doc.sha256)
      .executeTakeFirstOrThrow();
    return documentFromRow(row);
  };

  return {
    async putDocument(doc, now, releasing) {
      if (releasing === undefined) return putDocumentIn(db, doc, now);
      // The room the bytes held goes as they are counted: no reader sees them twice or not at all.
      return db.transaction().execute(async (trx) => {
        const stored = await putDocumentIn(trx, doc, now);
        await trx.deleteFrom('storage_reservations').where('id', '=', releasing).execute();
        return stored;
      });
    },

    async getDocument(id, options) {
      const row = await (options?.deleted === true ? documentById : liveDocumentById).takeFirst([id]);
      return row && documentFromRow(row);
    },

    async deleteDocument(id, now, storedAt) {
      // A second round only when the job that kept it ended between the statements.
      for (let round = 0; round < 2; round++) {
        const { record, blobUnused } = await deleteOrMark(id, now, storedAt);
        if (record) return { status: 'deleted', document: documentFromRow(record), blobUnused: await blobUnused() };
        const unfinished = await db.selectFrom('job_documents')
          .innerJoin('jobs', 'jobs.id', 'job_documents.job_id')
          .innerJoin('documents', 'documents.id', 'job_documents.document_id')
          .select('jobs.id')
          .where('job_documents.document_id', '=', id)
          .where('documents.deleted_at', 'is', null)
          .where('jobs.status', 'in', UNFINISHED_JOB_STATUSES)
          .orderBy('jobs.id')
          .execute();
        if (unfinished.length > 0) return { status: 'in_use', unfinishedJobIds: unfinished.map((use) => use.id) };
        const live = await db.selectFrom('documents').select('id').where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
        if (!live) break;
        if (storedAt !== undefined) return { status: 'in_use', unfinishedJobIds: [] };
      }
      return { status: 'not_found' };
    },

    async purgeDeletedDocuments(documentIds) {
      if (documentIds.length === 0) return 0;
      const result = await db.deleteFrom('documents')
        .where('id', 'in', documentIds)
        .where('deleted_at', 'is not', null)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('job_documents').select('job_id').whereRef('job_documents.document_id', '=', 'documents.id'))))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    withContentLock,

    async releaseContentLocks() {
      await db.deleteFrom('content_locks').execute();
    },

    async listUnusedDocumentsBefore(query) {
      // Stored last before the cut-off (a document stored again is as new as its last storing).
      const storedAt = sql<number>`coalesce(stored_at, created_at)`;
      let select = db.selectFrom('documents').selectAll()
        .where(storedAt, '<', query.before)
        .where('deleted_at', 'is', null)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('job_documents').select('job_id').whereRef('job_documents.document_id', '=', 'documents.id'))));
      if (query.tenantId !== undefined) select = select.where('tenant_id', '=', query.tenantId);
      else if (query.exceptTenants !== undefined && query.exceptTenants.length > 0) select = select.where('tenant_id', 'not in', query.exceptTenants);
      const rows = await select.orderBy(storedAt).orderBy('id').limit(query.limit).execute();
      return rows.map(documentFromRow);
    },
  };
}

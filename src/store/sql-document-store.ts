import type { Kysely, Selectable } from 'kysely';
import { toNumber } from '../sql/dialect.ts';
import type { DocumentRecord, DocumentStore } from './document-store.ts';
import { UNFINISHED_JOB_STATUSES } from './job-store.ts';
import type { DocumentTables, DocumentsTable } from './documents-schema.ts';

function documentFromRow(row: Selectable<DocumentsTable>): DocumentRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    sha256: row.sha256,
    name: row.name,
    size: toNumber(row.size),
    mediaType: row.media_type,
    createdAt: toNumber(row.created_at),
  };
}

/** The document port in dialect-neutral Kysely (SQLite and PostgreSQL). The table must exist (`documentMigrations`). */
export function sqlDocumentStore(kysely: Kysely<unknown>): DocumentStore {
  // job_documents and jobs are read (never written) to tell whether a job uses a document.
  const db = kysely.withTables<DocumentTables & { job_documents: { job_id: string; document_id: string }; jobs: { id: string; status: string } }>();
  return {
    async putDocument(doc, now) {
      // "Content is stored once": unique per (tenant, sha256); a second put returns the first record.
      await db
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
      const row = await db
        .selectFrom('documents')
        .selectAll()
        .where('tenant_id', '=', doc.tenantId)
        .where('sha256', '=', doc.sha256)
        .executeTakeFirstOrThrow();
      return documentFromRow(row);
    },

    async getDocument(id) {
      const row = await db.selectFrom('documents').selectAll().where('id', '=', id).executeTakeFirst();
      return row && documentFromRow(row);
    },

    async deleteDocument(id) {
      const deleted = await db.deleteFrom('documents')
        .where('id', '=', id)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('job_documents').select('job_id').where('document_id', '=', id))))
        .returningAll()
        .executeTakeFirst();
      if (deleted) {
        const other = await db.selectFrom('documents').select('id').where('sha256', '=', deleted.sha256).limit(1).executeTakeFirst();
        return { status: 'deleted', document: documentFromRow(deleted), blobUnused: other === undefined };
      }
      const uses = await db.selectFrom('job_documents')
        .innerJoin('jobs', 'jobs.id', 'job_documents.job_id')
        .select(['jobs.id', 'jobs.status'])
        .where('job_documents.document_id', '=', id)
        .orderBy('jobs.id')
        .execute();
      if (uses.length === 0) return { status: 'not_found' };
      return {
        status: 'in_use',
        jobIds: uses.map((use) => use.id),
        unfinishedJobIds: uses.filter((use) => (UNFINISHED_JOB_STATUSES as readonly string[]).includes(use.status)).map((use) => use.id),
      };
    },

    async listUnusedDocumentsBefore(query) {
      let select = db.selectFrom('documents').selectAll()
        .where('created_at', '<', query.before)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('job_documents').select('job_id').whereRef('job_documents.document_id', '=', 'documents.id'))));
      if (query.tenantId !== undefined) select = select.where('tenant_id', '=', query.tenantId);
      else if (query.exceptTenants !== undefined && query.exceptTenants.length > 0) select = select.where('tenant_id', 'not in', query.exceptTenants);
      const rows = await select.orderBy('created_at').orderBy('id').limit(query.limit).execute();
      return rows.map(documentFromRow);
    },
  };
}

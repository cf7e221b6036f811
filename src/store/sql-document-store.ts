import type { Kysely, Selectable } from 'kysely';
import { toNumber } from '../sql/dialect.ts';
import type { DocumentRecord, DocumentStore } from './document-store.ts';
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
  const db = kysely.withTables<DocumentTables>();
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
  };
}

import type { Kysely, Selectable } from 'kysely';
import type { JsonValue } from '../json.ts';
import { fromJsonText, toJsonText, toNumber } from '../sql/dialect.ts';
import type { UploadRecord, UploadStore } from './upload-store.ts';
import type { UploadTables, UploadsTable } from './uploads-schema.ts';

/** Optional fields stay absent (not `null`) on the way back, as the record was written. */
function uploadFromRow(row: Selectable<UploadsTable>): UploadRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    status: row.status === 'stored' ? 'stored' : 'failed',
    name: row.name,
    size: toNumber(row.size),
    createdAt: toNumber(row.created_at),
    ...(row.document_id === null ? {} : { documentId: row.document_id }),
    ...(row.sha256 === null ? {} : { sha256: row.sha256 }),
    ...(row.media_type === null ? {} : { mediaType: row.media_type }),
    ...(row.error === null ? {} : { error: fromJsonText<JsonValue>(row.error) }),
  };
}

/** The upload port in dialect-neutral Kysely (SQLite and PostgreSQL). The table must exist (`uploadMigrations`). */
export function sqlUploadStore(kysely: Kysely<unknown>): UploadStore {
  const db = kysely.withTables<UploadTables>();
  return {
    async putUpload(record) {
      const row = {
        id: record.id,
        tenant_id: record.tenantId,
        status: record.status,
        name: record.name,
        size: record.size,
        created_at: record.createdAt,
        document_id: record.documentId ?? null,
        sha256: record.sha256 ?? null,
        media_type: record.mediaType ?? null,
        error: record.error === undefined ? null : toJsonText(record.error),
      };
      const { id: _id, ...changes } = row;
      await db
        .insertInto('uploads')
        .values(row)
        .onConflict((oc) => oc.column('id').doUpdateSet(changes))
        .execute();
    },

    async getUpload(id) {
      const row = await db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
      return row && uploadFromRow(row);
    },

    async deleteUpload(id) {
      const result = await db.deleteFrom('uploads').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async deleteFailedUploadsBefore(before) {
      const result = await db.deleteFrom('uploads').where('status', '=', 'failed').where('created_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

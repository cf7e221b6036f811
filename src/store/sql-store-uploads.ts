import type { Kysely, Selectable } from 'kysely';
import type { JsonValue } from '../json.ts';
import type { UploadRecord } from './port.ts';
import { fromJsonText, toJsonText, toNumber } from './sql.ts';
import type { StoreTables } from './store-schema.ts';
import type { UploadsTable } from './workers-uploads-schema.ts';

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

export async function putUpload(db: Kysely<StoreTables>, record: UploadRecord): Promise<void> {
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
}

export async function getUpload(db: Kysely<StoreTables>, id: string): Promise<UploadRecord | undefined> {
  const row = await db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
  return row && uploadFromRow(row);
}

export async function deleteUpload(db: Kysely<StoreTables>, id: string): Promise<boolean> {
  const result = await db.deleteFrom('uploads').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function deleteFailedUploadsBefore(db: Kysely<StoreTables>, before: number): Promise<number> {
  const result = await db.deleteFrom('uploads').where('status', '=', 'failed').where('created_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

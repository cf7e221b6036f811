import type { Selectable } from 'kysely';
import type { ErrorInfo } from '../errors.ts';
import type { ReamEvent } from '../events/types.ts';
import type { JsonObject, JsonValue } from '../json.ts';
import type {
  ChunkResultRecord,
  ChunkStatus,
  DocumentRecord,
  DocumentStatus,
  JobDocumentRecord,
  JobRecord,
  JobStatus,
} from './port.ts';
import { fromJsonText, fromNullableJsonText, toNullableNumber, toNumber } from './sql.ts';
import type {
  ChunkResultsTable,
  DocumentsTable,
  EventsTable,
  JobDocumentsTable,
  JobsTable,
} from './store-schema.ts';

// Rows ↔ records: snake_case stays in SQL, camelCase in TypeScript (map names at the boundary).

export function jobFromRow(row: Selectable<JobsTable>): JobRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    key: row.key,
    pipeline: row.pipeline,
    options: fromJsonText<JsonObject>(row.options),
    priority: toNumber(row.priority),
    status: row.status as JobStatus,
    error: fromNullableJsonText<ErrorInfo>(row.error),
    createdAt: toNumber(row.created_at),
    startedAt: toNullableNumber(row.started_at),
    finishedAt: toNullableNumber(row.finished_at),
  };
}

export function documentFromRow(row: Selectable<DocumentsTable>): DocumentRecord {
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

export function jobDocumentFromRow(row: Selectable<JobDocumentsTable>): JobDocumentRecord {
  return {
    jobId: row.job_id,
    documentId: row.document_id,
    ordinal: toNumber(row.ordinal),
    source: row.source,
    status: row.status as DocumentStatus,
    pagesTotal: toNullableNumber(row.pages_total),
    chunksTotal: toNullableNumber(row.chunks_total),
    info: fromNullableJsonText<JsonValue>(row.info),
    error: fromNullableJsonText<ErrorInfo>(row.error),
    startedAt: toNullableNumber(row.started_at),
    finishedAt: toNullableNumber(row.finished_at),
  };
}

export function chunkResultFromRow(row: Selectable<ChunkResultsTable>): ChunkResultRecord {
  return {
    jobId: row.job_id,
    documentId: row.document_id,
    index: toNumber(row.idx),
    from: toNumber(row.from_page),
    to: toNumber(row.to_page),
    status: row.status as ChunkStatus,
    output: fromNullableJsonText<JsonValue>(row.output),
    error: fromNullableJsonText<ErrorInfo>(row.error),
    durationMs: toNumber(row.duration_ms),
  };
}

/** The columns an event keeps outside `data`. */
type EventColumns = 'seq' | 'type' | 'jobId' | 'tenantId' | 'at';
export type EventData = Omit<ReamEvent, EventColumns>;

export function eventFromRow(row: Selectable<EventsTable>): ReamEvent {
  return {
    seq: toNumber(row.seq),
    type: row.type as ReamEvent['type'],
    jobId: row.job_id,
    tenantId: row.tenant_id,
    at: toNumber(row.at),
    ...fromJsonText<EventData>(row.data),
  };
}

/** Cursors are opaque to callers: base64url of the last row's sort key. */
export function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return { createdAt: value[0], id: value[1] };
    }
  } catch {
    // fall through: a malformed cursor is the caller's error, reported below
  }
  return undefined;
}

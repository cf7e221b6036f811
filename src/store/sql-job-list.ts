import { sql, type Kysely, type Selectable } from 'kysely';
import { ReamError } from '../errors.ts';
import { clampLimit } from '../sql/dialect.ts';
import type { JobRecord, ListJobsQuery, Page } from './job-store.ts';
import type { JobTables, JobsTable } from './jobs-schema.ts';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

interface CursorAt {
  createdAt: number;
  id: string;
  oldestFirst: boolean;
}

/**
 * Cursors are opaque to callers: base64url of the last row's sort key, and `'asc'` when the list
 * is oldest first (a cursor of the newest-first list stays the two-item array it always was).
 */
function encodeCursor(createdAt: number, id: string, oldestFirst: boolean): string {
  return Buffer.from(JSON.stringify(oldestFirst ? [createdAt, id, 'asc'] : [createdAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): CursorAt | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // Only what a page could have given: PostgreSQL refuses a bigint of 1.5 and text holding NUL.
    if (Array.isArray(value) && Number.isSafeInteger(value[0]) && typeof value[1] === 'string' && !value[1].includes('\u0000') && (value.length === 2 || (value.length === 3 && value[2] === 'asc'))) {
      return { createdAt: value[0] as number, id: value[1], oldestFirst: value.length === 3 };
    }
  } catch {
    // fall through: a malformed cursor is the caller's error, reported by listJobs
  }
  return undefined;
}

/** LIKE's wildcards and its escape character, taken literally (`escape '\'`). */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * `listJobs` in dialect-neutral Kysely: a page of jobs by (created_at, id), newest or oldest
 * first, narrowed by tenant, status and a search text (see `ListJobsQuery.search`).
 */
export function sqlListJobs(kysely: Kysely<unknown>, jobFromRow: (row: Selectable<JobsTable>) => JobRecord) {
  const db = kysely.withTables<JobTables>();
  return async (query: ListJobsQuery): Promise<Page<JobRecord>> => {
    const limit = clampLimit(query.limit, DEFAULT_PAGE, MAX_PAGE);
    const oldestFirst = query.order === 'oldest';
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw ReamError.nonRetryable('validation_failed', 'invalid cursor');
    // A cursor marks a place in one order: read in the other, its page would skip or repeat jobs.
    if (after && after.oldestFirst !== oldestFirst) throw ReamError.nonRetryable('validation_failed', 'the cursor is of a list in the other order');
    let select = db.selectFrom('jobs').selectAll();
    if (query.tenantId !== undefined) select = select.where('tenant_id', '=', query.tenantId);
    if (query.status !== undefined) select = select.where('status', '=', query.status);
    const search = query.search?.trim() ?? '';
    // No job's id or pipeline holds NUL, and PostgreSQL refuses it in text outright.
    if (search.includes('\u0000')) throw ReamError.nonRetryable('validation_failed', 'the search must not hold a NUL character');
    if (search !== '') {
      // lower() on both sides, in SQL: SQLite's LIKE ignores ASCII case and PostgreSQL's does not,
      // and each database's lower() is its own (SQLite's leaves Ü as it is, JavaScript's does not).
      const literal = likeLiteral(search);
      select = select.where(sql<boolean>`(lower(id) like lower(${`${literal}%`}) escape '\\' or lower(pipeline) like lower(${`%${literal}%`}) escape '\\')`);
    }
    if (after) {
      // (created_at, id) past the cursor in the list's order, spelled out for portability.
      const past = oldestFirst ? '>' : '<';
      select = select.where((eb) =>
        eb.or([eb('created_at', past, after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', past, after.id)])]),
      );
    }
    const direction = oldestFirst ? 'asc' : 'desc';
    const rows = await select.orderBy('created_at', direction).orderBy('id', direction).limit(limit + 1).execute();
    const items = rows.slice(0, limit).map(jobFromRow);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id, oldestFirst) : null };
  };
}

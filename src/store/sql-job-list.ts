import { sql, type Kysely, type RawBuilder, type Selectable, type SelectQueryBuilder } from 'kysely';
import { ReamError } from '../errors.ts';
import { clampLimit, toNumber, type SqlFlavor } from '../sql/dialect.ts';
import { JOB_TOTAL_CAP, type JobListPage, type JobRecord, type ListJobsQuery, type ListTotal } from './job-store.ts';
import type { JobTables, JobsTable } from './jobs-schema.ts';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;
/**
 * A search reads each matching pipeline's jobs as a branch of one union: past this many matching
 * names (a search of one or two common letters) it reads the tenant's list once instead, where
 * matches are dense enough to fill a page soon.
 */
const MAX_SEARCH_PIPELINES = 16;
/**
 * Id-start matches are read whole and sorted by time: past this many (a start like `job_` that
 * nearly every job has) the tenant's list is read in order instead, and soon fills a page.
 */
const MAX_ID_MATCHES = 500;

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

type JobSelect = SelectQueryBuilder<JobTables, 'jobs', Selectable<JobsTable>>;

/**
 * `listJobs` in dialect-neutral Kysely: a page of jobs by (created_at, id), newest or oldest
 * first, narrowed by tenant, status and a search text (see `ListJobsQuery.search`).
 */
export function sqlListJobs(kysely: Kysely<unknown>, flavor: SqlFlavor, jobFromRow: (row: Selectable<JobsTable>) => JobRecord) {
  const db = kysely.withTables<JobTables>();
  /**
   * A job id's start, `pattern` being LIKE's (escaped, then `%`), as its index reads it: SQLite's
   * LIKE ignores ASCII case as its lower() does, so the NOCASE id index serves it; PostgreSQL's
   * does not, so both sides go through lower() and its lower(id) index.
   */
  const idStarts = (pattern: string): RawBuilder<boolean> =>
    flavor === 'sqlite' ? sql<boolean>`id like ${pattern} escape '\\'` : sql<boolean>`lower(id) like lower(${pattern}) escape '\\'`;

  /**
   * The tenant's pipeline names that hold `pattern` (LIKE's), found by stepping through its
   * distinct names on the (tenant_id, pipeline) index: one probe per name, not one per job.
   * More than `MAX_SEARCH_PIPELINES`: undefined.
   */
  async function matchingPipelines(tenantId: string, pattern: string): Promise<string[] | undefined> {
    const { rows } = await sql<{ name: string }>`with recursive names(name) as (
        select min(pipeline) from jobs where tenant_id = ${tenantId}
        union all
        select (select min(pipeline) from jobs where tenant_id = ${tenantId} and pipeline > names.name) from names where names.name is not null
      )
      select name from names where name is not null and lower(name) like lower(${pattern}) escape '\\' limit ${MAX_SEARCH_PIPELINES + 1}`.execute(kysely);
    return rows.length > MAX_SEARCH_PIPELINES ? undefined : rows.map((row) => row.name);
  }

  /** Whether the tenant has more than `MAX_ID_MATCHES` jobs whose id starts as `pattern` says, counted on the index up to there. */
  async function manyIdMatches(tenantId: string, pattern: string): Promise<boolean> {
    // PostgreSQL, expecting many matches, would rather read the whole table until it has counted
    // enough: asked for them in its index's order (the byte order of `text_pattern_ops`), it reads that index.
    const inIndexOrder = flavor === 'sqlite' ? sql`` : sql`order by lower(id) using ~<~`;
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from (select 1 from jobs where tenant_id = ${tenantId} and ${idStarts(pattern)} ${inIndexOrder} limit ${MAX_ID_MATCHES + 1}) as matches`.execute(kysely);
    return toNumber(rows[0]?.n) > MAX_ID_MATCHES;
  }

  return async (query: ListJobsQuery): Promise<JobListPage> => {
    const limit = clampLimit(query.limit, DEFAULT_PAGE, MAX_PAGE);
    const oldestFirst = query.order === 'oldest';
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw ReamError.nonRetryable('validation_failed', 'invalid cursor');
    // A cursor marks a place in one order: read in the other, its page would skip or repeat jobs.
    if (after && after.oldestFirst !== oldestFirst) throw ReamError.nonRetryable('validation_failed', 'the cursor is of a list in the other order');
    const search = query.search?.trim() ?? '';
    // No job's id or pipeline holds NUL, and PostgreSQL refuses it in text outright.
    if (search.includes('\u0000')) throw ReamError.nonRetryable('validation_failed', 'the search must not hold a NUL character');
    const direction = oldestFirst ? 'asc' : 'desc';
    /** The jobs of the list, tenant and status narrowed. */
    const narrowed = (): JobSelect => {
      // A job under deletion is gone to readers from its first batch on (sql-job-deletion.ts).
      let select = db.selectFrom('jobs').selectAll().where('deleting_at', 'is', null);
      if (query.tenantId !== undefined) select = select.where('tenant_id', '=', query.tenantId);
      if (query.status !== undefined) select = select.where('status', '=', query.status);
      return select;
    };
    /** How many jobs `selects` (disjoint) hold together, counted up to one past the cap. */
    const countOf = async (...selects: JobSelect[]): Promise<ListTotal> => {
      const [first, ...others] = selects.map((select) => select.clearSelect().select(sql<number>`1`.as('one')));
      if (first === undefined) return { count: 0, exact: true };
      let all = first;
      for (const other of others) all = all.unionAll(other);
      const counted = await db.selectFrom(all.limit(JOB_TOTAL_CAP + 1).as('listed')).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst();
      const count = toNumber(counted?.n);
      return count > JOB_TOTAL_CAP ? { count: JOB_TOTAL_CAP, exact: false } : { count, exact: true };
    };
    const listed = (narrow: (select: JobSelect) => JobSelect): JobSelect => {
      let select = narrowed();
      if (after) {
        // (created_at, id) past the cursor in the list's order, spelled out for portability.
        const past = oldestFirst ? '>' : '<';
        select = select.where((eb) =>
          eb.or([eb('created_at', past, after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', past, after.id)])]),
        );
      }
      return narrow(select).orderBy('created_at', direction).orderBy('id', direction).limit(limit + 1);
    };
    let rows: Selectable<JobsTable>[];
    let total: Promise<ListTotal> | undefined;
    if (search === '') {
      rows = await listed((select) => select).execute();
      if (query.total === true) total = countOf(narrowed());
    } else {
      const literal = likeLiteral(search);
      const idPattern = `${literal}%`;
      const namePattern = `%${literal}%`;
      // lower() on both sides, in SQL: SQLite's LIKE ignores ASCII case and PostgreSQL's does not,
      // and each database's lower() is its own (SQLite's leaves Ü as it is, JavaScript's does not).
        const matches = sql<boolean>`(lower(id) like lower(${idPattern}) escape '\\' or lower(pipeline) like lower(${namePattern}) escape '\\')`;
      const tenantId = query.tenantId;
      const names = tenantId === undefined ? undefined : await matchingPipelines(tenantId, namePattern);
      const dense = tenantId === undefined || (await manyIdMatches(tenantId, idPattern));
      if (names === undefined || dense) {
        // Matches are many (or the list spans every tenant): read the list in order, filtered.
        rows = await listed((select) => select.where(matches)).execute();
      } else {
        // Few matches: the id-start matches and each matching pipeline's first page, each an index
        // read, merged; `union` drops a job found both ways. Each branch is a subquery: SQLite
        // allows no ORDER BY or LIMIT on a part of a compound select.
        let union = db.selectFrom(listed((select) => select.where(idStarts(idPattern))).as('by_id')).selectAll();
        for (const [i, name] of names.entries()) union = union.union(db.selectFrom(listed((select) => select.where('pipeline', '=', name)).as(`by_pipeline_${i}`)).selectAll());
        rows = await union.orderBy('created_at', direction).orderBy('id', direction).limit(limit + 1).execute();
      }
      if (query.total === true) {
        if (tenantId === undefined) {
          total = countOf(narrowed().where(matches));
        } else {
          // Disjoint parts, so no job counts twice: the id-start matches first, on their index
          // (past the cap nothing else is read), then the matching pipelines' other jobs.
          const otherId = sql<boolean>`not (${idStarts(idPattern)})`;
          const byName =
            names === undefined
              ? [narrowed().where(otherId).where(sql<boolean>`lower(pipeline) like lower(${namePattern}) escape '\\'`)]
              : names.map((name) => narrowed().where('pipeline', '=', name).where(otherId));
          total = countOf(narrowed().where(idStarts(idPattern)), ...byName);
        }
      }
    }
    const items = rows.slice(0, limit).map(jobFromRow);
    const last = items.at(-1);
    const nextCursor = rows.length > limit && last ? encodeCursor(last.createdAt, last.id, oldestFirst) : null;
    return total === undefined ? { items, nextCursor } : { items, nextCursor, total: await total };
  };
}

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
 * nearly every job has) the tenant's list is read in order first, and soon fills a page.
 */
const MAX_ID_MATCHES = 500;
/**
 * More id-start matches than that may still be thin among the list's jobs (`job_ab` among
 * 200,000 random ids: one in 300), where reading the list in order for a page reads thousands of
 * jobs, and PostgreSQL, misjudging how many match, reads the whole table instead. So the list is
 * read in order only this many pages' worth of jobs: a page not filled there is read from the
 * indexes after all, as few matches are.
 */
const DENSE_WINDOW_PAGES = 40;
/**
 * An admin's search of every tenant reads each tenant's indexes as a tenant's search does, up to
 * this many tenants (each costs a probe or two per search); past them it reads the list of every
 * tenant in order.
 */
const MAX_SEARCH_TENANTS = 32;

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
  async function matchingPipelines(tenantId: string, pattern: string, most: number): Promise<string[] | undefined> {
    const { rows } = await sql<{ name: string }>`with recursive names(name) as (
        select min(pipeline) from jobs where tenant_id = ${tenantId}
        union all
        select (select min(pipeline) from jobs where tenant_id = ${tenantId} and pipeline > names.name) from names where names.name is not null
      )
      select name from names where name is not null and lower(name) like lower(${pattern}) escape '\\' limit ${most + 1}`.execute(kysely);
    return rows.length > most ? undefined : rows.map((row) => row.name);
  }

  /** How many of the tenant's jobs have an id that starts as `pattern` says, counted on the index up to `most` + 1. */
  async function idMatches(tenantId: string, pattern: string, most: number): Promise<number> {
    // PostgreSQL, expecting many matches, would rather read the whole table until it has counted
    // enough: asked for them in its index's order (the byte order of `text_pattern_ops`), it reads that index.
    const inIndexOrder = flavor === 'sqlite' ? sql`` : sql`order by lower(id) using ~<~`;
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from (select 1 from jobs where tenant_id = ${tenantId} and ${idStarts(pattern)} ${inIndexOrder} limit ${most + 1}) as matches`.execute(kysely);
    return toNumber(rows[0]?.n);
  }

  /** Whether the tenants have more than `MAX_ID_MATCHES` jobs together whose id starts as `pattern` says. */
  async function manyIdMatches(tenantIds: readonly string[], pattern: string): Promise<boolean> {
    let left = MAX_ID_MATCHES;
    for (const tenantId of tenantIds) {
      left -= await idMatches(tenantId, pattern, left);
      if (left < 0) return true;
    }
    return false;
  }

  /**
   * Each matching pipeline of each tenant, as [tenant, name]; more than `MAX_SEARCH_PIPELINES`
   * together: undefined.
   */
  async function matchingPairs(tenantIds: readonly string[], pattern: string): Promise<Array<[string, string]> | undefined> {
    const pairs: Array<[string, string]> = [];
    for (const tenantId of tenantIds) {
      const names = await matchingPipelines(tenantId, pattern, MAX_SEARCH_PIPELINES - pairs.length);
      if (names === undefined) return undefined;
      for (const name of names) pairs.push([tenantId, name]);
    }
    return pairs;
  }

  /**
   * Every tenant that has jobs, stepping through the distinct ones on the (tenant_id, created_at)
   * index: one probe per tenant. More than `MAX_SEARCH_TENANTS`: undefined.
   */
  async function everyTenant(): Promise<string[] | undefined> {
    const { rows } = await sql<{ tenant: string }>`with recursive tenants(tenant) as (
        select min(tenant_id) from jobs
        union all
        select (select min(tenant_id) from jobs where tenant_id > tenants.tenant) from tenants where tenants.tenant is not null
      )
      select tenant from tenants where tenant is not null limit ${MAX_SEARCH_TENANTS + 1}`.execute(kysely);
    return rows.length > MAX_SEARCH_TENANTS ? undefined : rows.map((row) => row.tenant);
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
    /** The list's next `take` jobs (a page and one), narrowed by `narrow`, in its order. */
    const listed = (narrow: (select: JobSelect) => JobSelect, take = limit + 1): JobSelect => {
      let select = narrowed();
      if (after) {
        // (created_at, id) past the cursor in the list's order, spelled out for portability.
        const past = oldestFirst ? '>' : '<';
        select = select.where((eb) =>
          eb.or([eb('created_at', past, after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', past, after.id)])]),
        );
      }
      return narrow(select).orderBy('created_at', direction).orderBy('id', direction).limit(take);
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
      // The tenants read on their indexes: the one asked for, or every tenant when they are few.
      const tenantIds = query.tenantId !== undefined ? [query.tenantId] : await everyTenant();
      const pairs = tenantIds === undefined ? undefined : await matchingPairs(tenantIds, namePattern);
      /**
       * Jobs of the tenants (a tenant's list is narrowed to it already), the id index's leading
       * column. `in ()` is no SQL, and no tenant's id is empty.
       */
      const inTenants = (select: JobSelect): JobSelect =>
        tenantIds === undefined || query.tenantId !== undefined ? select : select.where('tenant_id', 'in', tenantIds.length === 0 ? [''] : tenantIds);
      const byId = (select: JobSelect): JobSelect => inTenants(select).where(idStarts(idPattern));
      const byPipeline = ([tenantId, name]: [string, string]) => (select: JobSelect): JobSelect => select.where('tenant_id', '=', tenantId).where('pipeline', '=', name);
      /**
       * The id-start matches and each matching pipeline's first page, each an index read, merged;
       * `union` drops a job found both ways. Each branch is a subquery: SQLite allows no ORDER BY
       * or LIMIT on a part of a compound select.
       */
      const fromIndexes = (found: Array<[string, string]>): Promise<Selectable<JobsTable>[]> => {
        let union = db.selectFrom(listed(byId).as('by_id')).selectAll();
        for (const [i, pair] of found.entries()) union = union.union(db.selectFrom(listed(byPipeline(pair)).as(`by_pipeline_${i}`)).selectAll());
        return union.orderBy('created_at', direction).orderBy('id', direction).limit(limit + 1).execute();
      };
      if (tenantIds === undefined || pairs === undefined) {
        // Matches may be many (a search of one or two common letters), or tenants are: the list in order, filtered.
        rows = await listed((select) => select.where(matches)).execute();
      } else if (!(await manyIdMatches(tenantIds, idPattern))) {
        rows = await fromIndexes(pairs);
      } else {
        // Many id matches, dense or thin among the jobs: the list in order, as far as its window.
        const recent = listed((select) => select, (limit + 1) * DENSE_WINDOW_PAGES).as('recent');
        rows = await db.selectFrom(recent).selectAll().where(matches).orderBy('created_at', direction).orderBy('id', direction).limit(limit + 1).execute();
        if (rows.length <= limit) rows = await fromIndexes(pairs);
      }
      if (query.total === true) {
        if (tenantIds === undefined) {
          total = countOf(narrowed().where(matches));
        } else {
          // Disjoint parts, so no job counts twice: the id-start matches first, on their index
          // (past the cap nothing else is read), then the matching pipelines' other jobs.
          const otherId = sql<boolean>`not (${idStarts(idPattern)})`;
          const byName =
            pairs === undefined
              ? [inTenants(narrowed()).where(otherId).where(sql<boolean>`lower(pipeline) like lower(${namePattern}) escape '\\'`)]
              : pairs.map((pair) => byPipeline(pair)(narrowed()).where(otherId));
          total = countOf(byId(narrowed()), ...byName);
        }
      }
    }
    const items = rows.slice(0, limit).map(jobFromRow);
    const last = items.at(-1);
    const nextCursor = rows.length > limit && last ? encodeCursor(last.createdAt, last.id, oldestFirst) : null;
    return total === undefined ? { items, nextCursor } : { items, nextCursor, total: await total };
  };
}

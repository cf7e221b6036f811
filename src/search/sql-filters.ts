// The SQL both index adapters share for filters: the record tables are alike on SQLite and
// PostgreSQL, and these statements are plain enough for both dialects.
import { sql, type Kysely, type QueryExecutorProvider, type RawBuilder } from 'kysely';
import { fieldKey, mediaTypeMatch, recordedFieldValues } from './filters.ts';
import type { IndexedResult, SearchFilters, SearchHit } from './port.ts';
import { withoutMarks } from './snippet-marks.ts';

export interface SearchRecordsTable {
  tenant_id: string;
  document_id: string;
  job_id: string;
  /** Lower-cased; null when the job did not know it. */
  media_type: string | null;
  /** Epoch ms. */
  indexed_at: number;
}

export interface SearchFieldsTable {
  tenant_id: string;
  document_id: string;
  job_id: string;
  /** `fieldKey` of the name and of the value. */
  name: string;
  value: string;
}

export type FilterTables = { search_records: SearchRecordsTable; search_fields: SearchFieldsTable };

/**
 * One record per (document, job) that indexed it, and the field values of that job's result:
 * what search filters match (`recordConditions` below). The records' (tenant, job) and
 * (tenant, indexed_at) indexes serve the job and date filters; the fields' (tenant, name, value)
 * index finds the documents holding a value.
 */
export async function createRecordTables(db: Kysely<unknown>, timeType: 'integer' | 'bigint'): Promise<void> {
  await db.schema
    .createTable('search_records')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('document_id', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('media_type', 'text')
    .addColumn('indexed_at', timeType, (c) => c.notNull())
    .addPrimaryKeyConstraint('search_records_pk', ['tenant_id', 'document_id', 'job_id'])
    .execute();
  await db.schema.createIndex('search_records_job').on('search_records').columns(['tenant_id', 'job_id']).execute();
  await db.schema.createIndex('search_records_time').on('search_records').columns(['tenant_id', 'indexed_at']).execute();
  await db.schema
    .createTable('search_fields')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('document_id', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('search_fields_pk', ['tenant_id', 'document_id', 'job_id', 'name', 'value'])
    .execute();
  await db.schema.createIndex('search_fields_value').on('search_fields').columns(['tenant_id', 'name', 'value']).execute();
}

/** Rows per INSERT (5 parameters each). */
const INSERT_BATCH = 200;
/** Characters of a page read for a browse hit's snippet, and shown of them. */
const BROWSE_READ = 400;
const BROWSE_SNIPPET = 160;

/** Replaces one job's record of a document (and its field values). */
export async function writeRecord(db: Kysely<FilterTables>, tenantId: string, documentId: string, result: IndexedResult): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const ofJob = { tenant_id: tenantId, document_id: documentId, job_id: result.jobId };
    await trx.deleteFrom('search_fields').where('tenant_id', '=', tenantId).where('document_id', '=', documentId).where('job_id', '=', result.jobId).execute();
    await trx.deleteFrom('search_records').where('tenant_id', '=', tenantId).where('document_id', '=', documentId).where('job_id', '=', result.jobId).execute();
    await trx.insertInto('search_records').values({ ...ofJob, media_type: result.mediaType?.toLowerCase() ?? null, indexed_at: result.indexedAt ?? Date.now() }).execute();
    const values = recordedFieldValues(result.fields).map((field) => ({ ...ofJob, ...field }));
    for (let i = 0; i < values.length; i += INSERT_BATCH) await trx.insertInto('search_fields').values(values.slice(i, i + INSERT_BATCH)).execute();
  });
}

/** Drops every job's record of a document (with its pages, in the caller's transaction). */
export async function deleteRecords(db: QueryExecutorProvider, tenantId: string, documentId: string): Promise<void> {
  // Raw statements: the caller's transaction is typed with its own tables, which hold these.
  await sql`delete from search_fields where tenant_id = ${tenantId} and document_id = ${documentId}`.execute(db);
  await sql`delete from search_records where tenant_id = ${tenantId} and document_id = ${documentId}`.execute(db);
}

/** Drops one job's records, and their field values (found through the records' (tenant, job) index). */
export async function deleteJobRecords(db: Kysely<FilterTables>, tenantId: string, jobId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`delete from search_fields where tenant_id = ${tenantId} and job_id = ${jobId}
      and document_id in (select document_id from search_records where tenant_id = ${tenantId} and job_id = ${jobId})`.execute(trx);
    await trx.deleteFrom('search_records').where('tenant_id', '=', tenantId).where('job_id', '=', jobId).execute();
  });
}

/**
 * The filters as conditions on one record, aliased `r`: all must hold for the same job's record.
 * `ofOneDocument`: the records are looked up by document (their primary key), so the time is
 * compared as `indexed_at + 0`, which no index serves: SQLite's planner would otherwise walk the
 * (tenant, time) index for every page (≈ 250× slower on 20,000 pages).
 */
function recordConditions(filters: SearchFilters, ofOneDocument = false): RawBuilder<unknown> {
  const time = ofOneDocument ? sql`r.indexed_at + 0` : sql`r.indexed_at`;
  const conditions: RawBuilder<unknown>[] = [];
  if (filters.jobId !== undefined) conditions.push(sql`r.job_id = ${filters.jobId}`);
  if (filters.mediaType !== undefined) {
    const match = mediaTypeMatch(filters.mediaType);
    conditions.push('prefix' in match ? sql`r.media_type like ${`${match.prefix}%`}` : sql`r.media_type in (${sql.join([...match.exact])})`);
  }
  if (filters.from !== undefined) conditions.push(sql`${time} >= ${filters.from}`);
  if (filters.to !== undefined) conditions.push(sql`${time} <= ${filters.to}`);
  for (const field of filters.fields ?? []) {
    conditions.push(sql`exists (select 1 from search_fields f
      where f.tenant_id = r.tenant_id and f.document_id = r.document_id and f.job_id = r.job_id
        and f.name = ${fieldKey(field.name)} and f.value = ${fieldKey(field.value)})`);
  }
  return conditions.length === 0 ? sql`1 = 1` : sql.join(conditions, sql` and `);
}

/** A condition on a page aliased `p`: some record of its document (same tenant) matches the filters. */
export function pageMatches(filters: SearchFilters | undefined): RawBuilder<unknown> {
  if (filters === undefined) return sql`1 = 1`;
  return sql`exists (select 1 from search_records r where r.tenant_id = p.tenant_id and r.document_id = p.document_id and ${recordConditions(filters, true)})`;
}

/**
 * A search without words: each matching document's first indexed page, newest record first,
 * its opening words as the snippet (nothing marked) and score 0.
 */
export async function browseFirstPages(db: QueryExecutorProvider, tenantId: string, filters: SearchFilters, limit: number, offset: number): Promise<SearchHit[]> {
  const { rows } = await sql<{ document_id: string; page: number; text: string }>`
    select p.document_id, p.page, substr(p.text, 1, ${BROWSE_READ}) as text
    from (select r.document_id, max(r.indexed_at) as newest from search_records r
          where r.tenant_id = ${tenantId} and ${recordConditions(filters)}
          group by r.document_id) m
    join search_pages p on p.tenant_id = ${tenantId} and p.document_id = m.document_id
    where p.page = (select min(fp.page) from search_pages fp where fp.tenant_id = ${tenantId} and fp.document_id = m.document_id)
    order by m.newest desc, p.document_id
    limit ${limit} offset ${offset}`.execute(db);
  return rows.map((row) => ({ documentId: row.document_id, page: row.page, snippet: openingWords(row.text), matches: [], score: 0 }));
}

function openingWords(text: string): string {
  const flat = withoutMarks(text).replace(/\s+/g, ' ').trim();
  return flat.length <= BROWSE_SNIPPET ? flat : `${flat.slice(0, BROWSE_SNIPPET).replace(/\s\S*$/, '')}…`;
}

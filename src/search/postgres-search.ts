import { sql, type Kysely } from 'kysely';
import type { PostgresDatabase } from '../sql/postgres-database.ts';
import { clampLimit } from '../sql/dialect.ts';
import { migrate } from '../sql/migrate.ts';
import { checkPageNumbers, queryTerms } from './fts-query.ts';
import { checkFilters, hasFilters } from './filters.ts';
import { indexedText, searchOffset, type IndexedPage, type IndexedResult, type SearchHit, type SearchIndex, type SearchQuery } from './port.ts';
import { browseFirstPages, deleteJobRecords, deleteRecords, pageMatches, writeRecord } from './sql-filters.ts';
import { postgresSearchMigrations, SEARCH_CONFIG, type PostgresSearchTables } from './postgres-search-schema.ts';
import { MATCH_END, MATCH_START, readMarkedSnippet, withoutMarks } from './snippet-marks.ts';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
/** Rows per INSERT (4 parameters each). */
const INSERT_BATCH = 200;
/** `ts_headline` options: the marks around matches, one fragment of about 16 words (as the SQLite snippet). */
const HEADLINE_OPTIONS = `StartSel=${MATCH_START}, StopSel=${MATCH_END}, MaxWords=16, MinWords=6, ShortWord=0, MaxFragments=1, FragmentDelimiter=…`;

/** Page-level full-text search with PostgreSQL tsvector/tsquery, scoped to one tenant. */
export class PostgresSearch implements SearchIndex {
  readonly name = 'postgres-tsvector';
  readonly #db: Kysely<PostgresSearchTables>;

  private constructor(db: Kysely<unknown>) {
    this.#db = db.withTables<PostgresSearchTables>();
  }

  /** Creates or migrates the search table in the database's schema (idempotent), then returns the index. */
  static async open(database: PostgresDatabase): Promise<PostgresSearch> {
    await migrate(database.kysely, 'search', 'postgres', postgresSearchMigrations, database.schema);
    return new PostgresSearch(database.kysely);
  }

  async indexDocument(tenantId: string, documentId: string, pages: readonly IndexedPage[]): Promise<void> {
    checkPageNumbers(pages);
    // "Replaces whatever was indexed for this document before": delete and insert in one
    // transaction, so a search never sees the document half-indexed or twice.
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('search_pages').where('tenant_id', '=', tenantId).where('document_id', '=', documentId).execute();
      await insertPages(trx, tenantId, documentId, pages);
    });
  }

  async appendPages(tenantId: string, documentId: string, pages: readonly IndexedPage[]): Promise<void> {
    checkPageNumbers(pages);
    await this.#db.transaction().execute((trx) => insertPages(trx, tenantId, documentId, pages));
  }

  recordResult(tenantId: string, documentId: string, result: IndexedResult): Promise<void> {
    return writeRecord(this.#db, tenantId, documentId, result);
  }

  forgetJob(tenantId: string, jobId: string): Promise<void> {
    return deleteJobRecords(this.#db, tenantId, jobId);
  }

  async removeDocument(tenantId: string, documentId: string): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('search_pages').where('tenant_id', '=', tenantId).where('document_id', '=', documentId).execute();
      await deleteRecords(trx, tenantId, documentId);
    });
  }

  async search(query: SearchQuery): Promise<SearchHit[]> {
    const filters = hasFilters(query.filters) ? query.filters : undefined;
    if (filters) checkFilters(filters);
    const limit = clampLimit(query.limit, DEFAULT_LIMIT, MAX_LIMIT);
    const offset = searchOffset(query.offset);
    // No word to look for (nothing but punctuation counts as none): each matching document's first page.
    if (filters && queryTerms(query.q).length === 0) return browseFirstPages(this.#db, query.tenantId, filters, limit, offset);
    const terms = queryTerms(query.q);
    if (terms.length === 0) return [];
    // phraseto_tsquery reads no operators (a bound parameter, never syntax) and keeps the words
    // of a term in a row; the terms are ANDed. It gets each piece as typed, so PostgreSQL's
    // parser splits it as it split the indexed text ("2024-05-06" is 2024, -05, -06 there).
    // Snippets are made for the hits only (outer select).
    const config = sql`${sql.lit(SEARCH_CONFIG)}::regconfig`;
    const tsquery = sql.join(
      terms.map((term) => sql`phraseto_tsquery(${config}, ${term.text})`),
      sql` && `,
    );
    const { rows } = await sql<{ document_id: string; page: number; snippet: string; rank: number }>`
      with q as (select ${tsquery} as query),
      hits as (
        select p.document_id, p.page, p.text, ts_rank(p.tsv, q.query) as rank
        from search_pages p, q
        where p.tenant_id = ${query.tenantId} and p.tsv @@ q.query and ${pageMatches(filters)}
        order by rank desc, p.document_id, p.page
        limit ${limit} offset ${offset}
      )
      select hits.document_id, hits.page, hits.rank,
             ts_headline(${config}, hits.text, q.query, ${HEADLINE_OPTIONS}) as snippet
      from hits, q
      order by hits.rank desc, hits.document_id, hits.page`.execute(this.#db);
    return rows.map((row) => ({ documentId: row.document_id, page: row.page, ...readMarkedSnippet(row.snippet), score: row.rank }));
  }

  /** The database belongs to whoever opened it. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function insertPages(db: Kysely<PostgresSearchTables>, tenantId: string, documentId: string, pages: readonly IndexedPage[]): Promise<void> {
  for (let i = 0; i < pages.length; i += INSERT_BATCH) {
    // PostgreSQL text cannot hold NUL; an extracted page may (a broken PDF), and it is no word.
    const rows = pages.slice(i, i + INSERT_BATCH).map((p) => ({ tenant_id: tenantId, document_id: documentId, page: p.page, text: withoutMarks(indexedText(p.text)).replaceAll('\0', ' ') }));
    await db.insertInto('search_pages').values(rows).execute();
  }
}

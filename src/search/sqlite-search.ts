import { sql, type Kysely } from 'kysely';
import { clampLimit } from '../sql/dialect.ts';
import { migrate } from '../sql/migrate.ts';
import type { SqliteDatabase } from '../sql/sqlite-database.ts';
import { checkPageNumbers, queryTerms, toFtsQuery } from './fts-query.ts';
import { checkFilters, hasFilters } from './filters.ts';
import { indexedText, searchOffset, type IndexedPage, type IndexedResult, type SearchHit, type SearchIndex, type SearchQuery } from './port.ts';
import { browseFirstPages, deleteJobRecords, deleteRecords, pageMatches, writeRecord } from './sql-filters.ts';
import { searchMigrations, type SearchTables } from './sqlite-search-schema.ts';
import { MATCH_END, MATCH_START, readMarkedSnippet, withoutMarks } from './snippet-marks.ts';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
/** Rows per INSERT (4 parameters each). */
const INSERT_BATCH = 200;
/** Words of context in a snippet (FTS5 allows at most 64). */
const SNIPPET_TOKENS = 16;

/**
 * Page-level full-text search with SQLite FTS5, scoped to one tenant. SQLite-only by nature: the
 * PostgreSQL adapter is its own implementation over tsvector.
 */
export class SqliteSearch implements SearchIndex {
  readonly name = 'sqlite-fts5';
  readonly #db: Kysely<SearchTables>;

  private constructor(db: Kysely<unknown>) {
    this.#db = db.withTables<SearchTables>();
  }

  /** Creates or migrates the search tables (idempotent), then returns the index. */
  static async open(database: SqliteDatabase): Promise<SqliteSearch> {
    await migrate(database.kysely, 'search', 'sqlite', searchMigrations);
    return new SqliteSearch(database.kysely);
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
    const match = toFtsQuery(query.q);
    if (match === undefined) return [];
    // bm25() is lower-is-better (negative); the port's score is higher-is-better.
    const { rows } = await sql<{ document_id: string; page: number; snippet: string; rank: number }>`
      select p.document_id, p.page,
             snippet(search_fts, 0, ${sql.lit(MATCH_START)}, ${sql.lit(MATCH_END)}, '…', ${sql.lit(SNIPPET_TOKENS)}) as snippet,
             bm25(search_fts) as rank
      from search_fts join search_pages p on p.id = search_fts.rowid
      where search_fts match ${match} and p.tenant_id = ${query.tenantId} and ${pageMatches(filters)}
      order by rank, p.document_id, p.page
      limit ${limit} offset ${offset}`.execute(this.#db);
    // bm25's value is computed over the whole table, every tenant's pages (how many hold a word,
    // their average length): shown as it is, it told one tenant whether others' pages hold a
    // word. The score says only the hit's place in its list (1 for the best), which is all the
    // port promises ("comparable only within one result list"). The order itself is still
    // bm25's: see docs/search.md on what it can reflect.
    return rows.map((row, i) => ({ documentId: row.document_id, page: row.page, ...readMarkedSnippet(row.snippet), score: placeScore(i, rows.length) }));
  }

  /** The database belongs to whoever opened it. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The score of the hit at `index` of a list of `count`: 1 for the first, then evenly less (the last above 0). */
function placeScore(index: number, count: number): number {
  return Math.round(((count - index) / count) * 1000) / 1000;
}

async function insertPages(db: Kysely<SearchTables>, tenantId: string, documentId: string, pages: readonly IndexedPage[]): Promise<void> {
  for (let i = 0; i < pages.length; i += INSERT_BATCH) {
    const rows = pages.slice(i, i + INSERT_BATCH).map((p) => ({ tenant_id: tenantId, document_id: documentId, page: p.page, text: withoutMarks(indexedText(p.text)) }));
    await db.insertInto('search_pages').values(rows).execute();
  }
}

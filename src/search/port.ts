/**
 * The characters of a page the index holds: PostgreSQL refuses a page whose words fill more
 * than 1 MB of tsvector (a 2 MB text page failed its whole document), so each adapter indexes a
 * page's first 400,000 characters, which stays well under it (random unique words fill ~0.75 MB). The page's text itself is kept whole.
 */
import type { SnippetMatch } from './snippet-marks.ts';

export const MAX_INDEXED_CHARS = 400_000;

/** The part of a page's text that is indexed (see {@link MAX_INDEXED_CHARS}). */
export function indexedText(text: string): string {
  return text.length <= MAX_INDEXED_CHARS ? text : text.slice(0, MAX_INDEXED_CHARS);
}

export interface IndexedPage {
  /** 1-based page number. */
  page: number;
  text: string;
}

export interface SearchHit {
  documentId: string;
  page: number;
  /** A short excerpt around the match, as the page has it (nothing added). */
  snippet: string;
  /** Where the matched words are in `snippet`, in order (none for a search without words). */
  matches: SnippetMatch[];
  /** Higher is better; comparable only within one result list. */
  score: number;
}

/**
 * Narrows a search to documents with a matching indexed result (see `recordResult`): one job's
 * result for the document must satisfy every filter given (see docs/search.md).
 */
export interface SearchFilters {
  /** Only documents this job processed (and indexed). */
  jobId?: string;
  /** An exact media type (`application/pdf`) or a family (`pdf`, `image`, …: `SEARCH_TYPE_FAMILIES`). */
  mediaType?: string;
  /** Indexed at or after this time (epoch ms). */
  from?: number;
  /** Indexed at or before this time (epoch ms). */
  to?: number;
  /** Each must be a value of that field (name and value compared case-insensitively, whole), anywhere in the document. */
  fields?: ReadonlyArray<{ name: string; value: string }>;
}

export interface SearchQuery {
  tenantId: string;
  /**
   * Words to find; plain text, not a query language (quotes and operators are treated as words).
   * May be empty when a filter is given: then each matching document's first indexed page is
   * a hit (its opening words as the snippet, score 0), newest first.
   */
  q: string;
  /** Default 20, at most 100. */
  limit?: number;
  /** Hits to skip, in the same order (the next page: the last one's offset plus its limit). Default 0, at most {@link MAX_SEARCH_OFFSET}. */
  offset?: number;
  filters?: SearchFilters;
}

/**
 * The deepest a search pages: each page skips its offset's hits again, so past this many the
 * search should be narrowed (a filter, more words) rather than paged.
 */
export const MAX_SEARCH_OFFSET = 10_000;

/** `offset` as the adapters take it: a whole number from 0 to {@link MAX_SEARCH_OFFSET}. */
export function searchOffset(offset: number | undefined): number {
  return offset === undefined || !Number.isFinite(offset) ? 0 : Math.min(Math.max(0, Math.floor(offset)), MAX_SEARCH_OFFSET);
}

/** What a job found in a document, recorded so searches can filter on it. */
export interface IndexedResult {
  jobId: string;
  mediaType: string | null;
  /** The result's fields (`DocumentOutput.fields`): only the values are kept. */
  fields: Readonly<Record<string, ReadonlyArray<{ value: string }>>>;
  /** When it was indexed (epoch ms); default now. */
  indexedAt?: number;
}

/** The search port (DESIGN.md §5): page-level full-text search, always scoped to one tenant. */
export interface SearchIndex {
  readonly name: string;
  /** Replaces whatever was indexed for this document before (idempotent). */
  indexDocument(tenantId: string, documentId: string, pages: readonly IndexedPage[]): Promise<void>;
  /**
   * Adds pages to what is indexed for this document: a document too long to hold in memory is
   * indexed in parts, after a `removeDocument`. Not atomic over the parts (a search meanwhile
   * sees the parts added so far); each part is.
   */
  appendPages(tenantId: string, documentId: string, pages: readonly IndexedPage[]): Promise<void>;
  /**
   * Records one job's result for the document (its media type, its field values, the time):
   * what `SearchFilters` match. Replaces that job's earlier record (idempotent); other jobs'
   * records of the document stay. Page text is not touched.
   */
  recordResult(tenantId: string, documentId: string, result: IndexedResult): Promise<void>;
  /** Drops one job's records of every document (a deleted job filters nothing); the pages stay, they are the documents'. */
  forgetJob(tenantId: string, jobId: string): Promise<void>;
  /** Drops the document's pages and every job's record of it. */
  removeDocument(tenantId: string, documentId: string): Promise<void>;
  search(query: SearchQuery): Promise<SearchHit[]>;
  close(): Promise<void>;
}

export interface IndexedPage {
  /** 1-based page number. */
  page: number;
  text: string;
}

export interface SearchHit {
  documentId: string;
  page: number;
  /** A short excerpt around the match, with matches wrapped in « ». */
  snippet: string;
  /** Higher is better; comparable only within one result list. */
  score: number;
}

export interface SearchQuery {
  tenantId: string;
  /** Words to find; plain text, not a query language (quotes and operators are treated as words). */
  q: string;
  /** Default 20, at most 100. */
  limit?: number;
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
  removeDocument(tenantId: string, documentId: string): Promise<void>;
  search(query: SearchQuery): Promise<SearchHit[]>;
  close(): Promise<void>;
}

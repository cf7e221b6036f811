import type { ErrorCode } from '../errors.ts';

/** The text of one page. `page` is 1-based, as viewers and `pdftotext -f/-l` number pages. */
export interface PageText {
  page: number;
  text: string;
}

/** A page that could not be read while its siblings could. */
export interface PageFailure {
  page: number;
  code: ErrorCode;
  message: string;
}

export interface DocumentMetadata {
  title?: string;
  author?: string;
  subject?: string;
  keywords?: string;
  creator?: string;
  producer?: string;
  /** ISO 8601. */
  createdAt?: string;
  /** ISO 8601. */
  modifiedAt?: string;
  /** e.g. `1.7` for PDF. */
  formatVersion?: string;
}

export interface Inspection {
  mediaType: string;
  pageCount: number;
  metadata: DocumentMetadata;
}

export interface ReadLimits {
  /** Refuse files larger than this (`file_too_large`). */
  maxBytes: number;
  /** Refuse documents with more pages than this (`too_many_pages`). */
  maxPages: number;
}

/** Pages `[from, to)`, 0-based. */
export interface PageRange {
  from: number;
  to: number;
}

export interface Extraction {
  pages: PageText[];
  failures: PageFailure[];
}

/**
 * A reader for one kind of document. `inspect` validates and counts pages (throwing
 * `ReamError` with the matching code for bad input); `extract` reads a page range.
 * Readers that need CPU run their work in the thread pool, never on the event loop.
 */
export interface DocumentFormat {
  readonly mediaType: string;
  /** Lower-case, with the dot: `.pdf`. */
  readonly extensions: readonly string[];
  inspect(path: string, limits: ReadLimits, signal?: AbortSignal): Promise<Inspection>;
  extract(path: string, range: PageRange, signal?: AbortSignal): Promise<Extraction>;
}

import { ReamError } from '../errors.ts';
import type { IndexedPage } from './port.ts';

/** Longest query, in words: more would only slow the match down, never improve it. */
const MAX_TERMS = 32;

/**
 * The words of user text, lower-cased, unique, at most MAX_TERMS: each run of letters, digits
 * and marks. User text is never query syntax ("quotes and operators are treated as words"), so
 * everything else is dropped. Runs split where SQLite's unicode61 tokenizer and PostgreSQL's
 * parser split, so every word matches as the index saw it.
 */
/** Page numbers are 1-based integers: anything else is refused before the index is touched. */
export function checkPageNumbers(pages: readonly IndexedPage[]): void {
  for (const page of pages) {
    if (!Number.isSafeInteger(page.page) || page.page < 1) {
      throw ReamError.nonRetryable('validation_failed', `page numbers are 1-based integers (got ${page.page})`);
    }
  }
}

export function queryWords(text: string): string[] {
  const words = text.match(/[\p{L}\p{N}\p{M}]+/gu);
  return words ? [...new Set(words.map((word) => word.toLowerCase()))].slice(0, MAX_TERMS) : [];
}

/**
 * Turns user text into an FTS5 query of plain words, all required: each word a quoted string,
 * so `AND`, `NEAR(`, `*`, `"` or `-` cannot change the query or make it fail to parse. Returns
 * `undefined` when no word remains (nothing to search for).
 */
export function toFtsQuery(text: string): string | undefined {
  const words = queryWords(text);
  if (words.length === 0) return undefined;
  // Inside an FTS5 string a double quote is escaped by doubling; the words hold none, but the
  // escaping stays so a wider word pattern can never open an injection.
  return words.map((word) => `"${word.replaceAll('"', '""')}"`).join(' ');
}

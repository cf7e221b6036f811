import { ReamError } from '../errors.ts';
import type { IndexedPage } from './port.ts';

/** Longest query, in words: more would only slow the match down, never improve it. */
const MAX_WORDS = 32;

/** Page numbers are 1-based integers: anything else is refused before the index is touched. */
export function checkPageNumbers(pages: readonly IndexedPage[]): void {
  for (const page of pages) {
    if (!Number.isSafeInteger(page.page) || page.page < 1) {
      throw ReamError.nonRetryable('validation_failed', `page numbers are 1-based integers (got ${page.page})`);
    }
  }
}

const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/** A term of a query: a whitespace-separated piece of user text and its words, to occur in a row. */
export interface QueryTerm {
  /** The piece as typed (for parsers that split it their own way, e.g. PostgreSQL's). */
  text: string;
  /** Its words, lower-cased. */
  words: string[];
}

/**
 * The terms of user text: each whitespace-separated piece becomes its words (runs of letters,
 * digits and marks, lower-cased), which must then occur in a row — "INV-B-2" or "2024-05-06"
 * is a phrase, not three loose words. Everything else is dropped: user text is never query
 * syntax ("quotes and operators are treated as words"). Unique terms, at most MAX_WORDS words
 * in all. Runs split where SQLite's unicode61 tokenizer splits, so every word matches as the
 * index saw it.
 */
export function queryTerms(text: string): QueryTerm[] {
  const terms = new Map<string, QueryTerm>();
  let count = 0;
  for (const piece of text.split(/\s+/)) {
    const words = (piece.match(WORD) ?? []).map((word) => word.toLowerCase());
    const key = words.join(' ');
    if (words.length === 0 || terms.has(key)) continue;
    // Past the limit the query is refused: dropping words would answer pages that lack them.
    count += words.length;
    if (count > MAX_WORDS) throw ReamError.nonRetryable('validation_failed', `a search takes at most ${MAX_WORDS} words (repeats counted once)`);
    terms.set(key, { text: piece, words });
  }
  return [...terms.values()];
}

/**
 * Turns user text into an FTS5 query of its terms, all required: each term a quoted string (a
 * phrase when it has several words), so `AND`, `NEAR(`, `*`, `"` or `-` cannot change the query
 * or make it fail to parse. Returns `undefined` when no word remains (nothing to search for).
 */
export function toFtsQuery(text: string): string | undefined {
  const terms = queryTerms(text);
  if (terms.length === 0) return undefined;
  // Inside an FTS5 string a double quote is escaped by doubling; the words hold none, but the
  // escaping stays so a wider word pattern can never open an injection.
  return terms.map((term) => `"${term.words.join(' ').replaceAll('"', '""')}"`).join(' ');
}

/** Longest query, in words: more would only slow the match down, never improve it. */
const MAX_TERMS = 32;

/**
 * Turns user text into an FTS5 query of plain words, all required. User text is never FTS5
 * syntax ("quotes and operators are treated as words"): each run of letters, digits and marks
 * becomes a quoted string, so `AND`, `NEAR(`, `*`, `"` or `-` cannot change the query or make
 * it fail to parse. Runs split where the unicode61 tokenizer splits, so every word matches as
 * the index saw it. Returns `undefined` when no word remains (nothing to search for).
 */
export function toFtsQuery(text: string): string | undefined {
  const words = text.match(/[\p{L}\p{N}\p{M}]+/gu);
  if (!words) return undefined;
  const unique = [...new Set(words.map((word) => word.toLowerCase()))].slice(0, MAX_TERMS);
  // Inside an FTS5 string a double quote is escaped by doubling; the words hold none, but the
  // escaping stays so a wider word pattern can never open an injection.
  return unique.map((word) => `"${word.replaceAll('"', '""')}"`).join(' ');
}

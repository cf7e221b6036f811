// How the adapters mark matches in a snippet, and how a hit says where they are. The database
// wraps each match in two control characters no page holds (they are taken out of the text as it
// is indexed: they are no words); the hit carries the snippet without them and the matches as
// offsets, so a page's own « », <b> or brackets are never read as marks.

/** Before a match in the database's snippet (STX). */
export const MATCH_START = '\u0002';
/** After a match in the database's snippet (ETX). */
export const MATCH_END = '\u0003';

/** One match in a hit's snippet: `snippet.slice(start, end)` (UTF-16 offsets, as JavaScript strings count). */
export interface SnippetMatch {
  start: number;
  end: number;
}

/** The text as it is indexed: the mark characters, were any there, turned into spaces. */
export function withoutMarks(text: string): string {
  return text.replaceAll(MATCH_START, ' ').replaceAll(MATCH_END, ' ');
}

/** The database's marked snippet as plain text and the offsets of its matches. */
export function readMarkedSnippet(marked: string): { snippet: string; matches: SnippetMatch[] } {
  const matches: SnippetMatch[] = [];
  let snippet = '';
  let start: number | undefined;
  let from = 0;
  for (let at = 0; at < marked.length; at++) {
    const char = marked[at];
    if (char !== MATCH_START && char !== MATCH_END) continue;
    snippet += marked.slice(from, at);
    from = at + 1;
    if (char === MATCH_START) start = snippet.length;
    else if (start !== undefined) {
      if (snippet.length > start) matches.push({ start, end: snippet.length });
      start = undefined;
    }
  }
  snippet += marked.slice(from);
  return { snippet, matches };
}

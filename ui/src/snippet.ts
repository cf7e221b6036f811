/** A search hit's snippet (the page's own text) and where its matches are (src/search/snippet-marks.ts). */
export interface MarkedSnippet {
  snippet: string;
  matches: ReadonlyArray<{ start: number; end: number }>;
}

export interface SnippetPart {
  text: string;
  match: boolean;
}

/**
 * Splits a snippet at its matches' offsets into plain and matched parts, to be rendered as text
 * nodes (never as HTML: a page's text is the tenant's, and may hold markup). Offsets out of
 * order or past the end are passed over.
 */
export function snippetParts({ snippet, matches }: MarkedSnippet): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let at = 0;
  for (const { start, end } of matches) {
    if (start < at || end <= start || end > snippet.length) continue;
    if (start > at) parts.push({ text: snippet.slice(at, start), match: false });
    parts.push({ text: snippet.slice(start, end), match: true });
    at = end;
  }
  if (at < snippet.length) parts.push({ text: snippet.slice(at), match: false });
  return parts;
}

// How `ream search` prints a hit: one line, tab-separated. On a terminal the matched words are
// bold, as grep colours its matches; piped, the snippet is the page's text as it is.
import type { NamedSearchHit } from '../client/index.ts';

const BOLD = '\u001b[1m';
const NORMAL = '\u001b[22m';

/** Whether hits printed to `stream` get their matches in bold: a terminal, unless NO_COLOR is set. */
export function highlightsMatches(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR ?? '') === '';
}

/** `documentId name page snippet`, the snippet on one line, its matches in bold when `bold`. */
export function searchHitLine(hit: Pick<NamedSearchHit, 'documentId' | 'name' | 'page' | 'snippet' | 'matches'>, bold: boolean): string {
  let snippet = hit.snippet;
  if (bold) {
    let marked = '';
    let at = 0;
    for (const { start, end } of hit.matches) {
      if (start < at || end > snippet.length || end <= start) continue; // out of order or past the end: passed over
      marked += `${snippet.slice(at, start)}${BOLD}${snippet.slice(start, end)}${NORMAL}`;
      at = end;
    }
    snippet = marked + snippet.slice(at);
  }
  return `${hit.documentId}\t${hit.name}\t${hit.page}\t${snippet.replace(/\s+/g, ' ')}\n`;
}

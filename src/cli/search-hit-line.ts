// How `ream search` prints a hit: one line, tab-separated. On a terminal the matched words are
// bold, as grep colours its matches; piped, the snippet is the page's text as it is. Either way
// control characters, a document's terminal escapes, are printed as U+FFFD.
import type { NamedSearchHit } from '../client/index.ts';

const BOLD = '\u001b[1m';
const NORMAL = '\u001b[22m';

/** C0 and C1 control characters but whitespace: a page's or a name's, they would be a terminal's escapes. */
// eslint-disable-next-line no-control-regex -- these are what it finds
const CONTROL = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f]/g;

/** Whether hits printed to `stream` get their matches in bold: a terminal, unless NO_COLOR is set. */
export function highlightsMatches(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR ?? '') === '';
}

/** `documentId name page snippet`, the name and snippet on one line each, its matches in bold when `bold`, control characters as U+FFFD. */
export function searchHitLine(hit: Pick<NamedSearchHit, 'documentId' | 'name' | 'page' | 'snippet' | 'matches'>, bold: boolean): string {
  // One character for one: the matches' offsets stay right.
  let snippet = hit.snippet.replace(CONTROL, '\ufffd');
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
  return `${hit.documentId}\t${oneLine(hit.name.replace(CONTROL, '\ufffd'))}\t${hit.page}\t${oneLine(snippet)}\n`;
}

/** Tabs and line breaks (of a hostile file name too) as one space: a hit stays one line of four columns. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ');
}

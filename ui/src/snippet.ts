/** The search index wraps each matched word in « » (src/search/port.ts). */
const OPEN = '«';
const CLOSE = '»';

export interface SnippetPart {
  text: string;
  match: boolean;
}

/**
 * Splits a snippet on its markers into plain and matched parts, to be rendered as text nodes
 * (never as HTML: a page's text is the tenant's, and may hold markup).
 */
export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let rest = snippet;
  while (rest !== '') {
    const open = rest.indexOf(OPEN);
    const close = open === -1 ? -1 : rest.indexOf(CLOSE, open + 1);
    if (open === -1 || close === -1) {
      parts.push({ text: rest, match: false });
      break;
    }
    if (open > 0) parts.push({ text: rest.slice(0, open), match: false });
    parts.push({ text: rest.slice(open + 1, close), match: true });
    rest = rest.slice(close + 1);
  }
  return parts;
}

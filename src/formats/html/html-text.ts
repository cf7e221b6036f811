// HTML made readable: the text a reader sees, in reading order, with headings on lines of their
// own and tables as rows of cells; scripts, styles, images and navigation chrome's markup
// dropped. Links keep their text; their addresses only on request (`links`). html-to-text does
// the layout, htmlparser2 (the parser under it) the title and meta fields. Word documents come
// here too, as the HTML mammoth makes of them.
import { convert, type HtmlToTextOptions } from 'html-to-text';
import { DomUtils, parseDocument } from 'htmlparser2';
import type { DocumentMetadata } from '../types.ts';

const layout = (links: boolean): HtmlToTextOptions => ({
  wordwrap: false,
  selectors: [
    { selector: 'a', options: { ignoreHref: !links, linkBrackets: ['[', ']'] } },
    { selector: 'img', format: 'skip' },
    // Definition lists (tables of contents, glossaries) as lines, not run together.
    ...(['dl', 'dt', 'dd'] as const).map((selector) => ({ selector, format: 'block' })),
    // Headings as written (html-to-text upper-cases them by default).
    ...(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'] as const).map((selector) => ({ selector, options: { uppercase: false } })),
    // Every table as rows of cells, not only those html-to-text guesses are data.
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false, maxColumnWidth: 10_000 } },
  ],
});

/** The readable text of `html`; `links` keeps each link's address after its text. */
export function htmlText(html: string, links: boolean): string {
  return tidy(convert(html, layout(links)));
}

/** Lines without trailing blanks, at most one empty line in a row, none at the ends. */
function tidy(text: string): string {
  return text.split('\n').map((line) => line.trimEnd()).join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

/** The page's `<title>` and its author, description and keywords `<meta>` fields. */
export function htmlMetadata(html: string): DocumentMetadata {
  const doc = parseDocument(html, { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true });
  const title = DomUtils.findOne((el) => el.name === 'title', doc.children, true);
  const meta = (name: string): string | undefined => {
    const el = DomUtils.findOne((e) => e.name === 'meta' && e.attribs.name?.toLowerCase() === name, doc.children, true);
    return clean(el?.attribs.content);
  };
  const out: DocumentMetadata = {
    title: clean(title ? DomUtils.textContent(title) : undefined),
    author: meta('author'),
    subject: meta('description'),
    keywords: meta('keywords'),
    creator: meta('generator'),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

function clean(value: string | undefined): string | undefined {
  const text = value?.replace(/\s+/g, ' ').trim();
  return text ? text : undefined;
}

/** Where a page states its encoding: `<meta charset>` or the http-equiv Content-Type, in its first 1024 bytes (as browsers look). */
const META_CHARSET = /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i;

/**
 * The page's characters: UTF-8 by its byte-order mark, else the charset its `<meta>` states, else
 * UTF-8 when the bytes are valid UTF-8, else windows-1252 (what browsers assume for old pages).
 */
export function decodeHtml(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder('utf-8').decode(bytes);
  const declared = META_CHARSET.exec(Buffer.from(bytes.subarray(0, 1024)).toString('latin1'))?.[1];
  if (declared) {
    try {
      return new TextDecoder(declared).decode(bytes);
    } catch {
      // an unknown label: fall through to guessing
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

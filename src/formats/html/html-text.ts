// HTML made readable: the text a reader sees, in reading order, with headings on lines of their
// own and tables as rows of cells; scripts, styles, images and navigation chrome's markup
// dropped. Links keep their text; their addresses only on request (`links`). html-to-text does
// the layout, htmlparser2 (the parser under it) the title and meta fields (markup-fields.ts). Word documents come
// here too, as the HTML mammoth makes of them.
import { convert, type HtmlToTextOptions } from 'html-to-text';
import { ReamError } from '../../errors.ts';
import type { DocumentMetadata } from '../types.ts';
import { checkNesting, MAX_NESTING } from './html-nesting.ts';
import { markupFields } from './markup-fields.ts';

const layout = (links: boolean): HtmlToTextOptions => ({
  wordwrap: false,
  // Files are refused past MAX_NESTING before they get here (checkNesting); the DOM may nest a
  // little deeper than counted (elements whose end tag is optional), never this deep. The input
  // is bounded by the job's maxBytes, not cut at html-to-text's 16 MiB.
  limits: { maxDepth: 2 * MAX_NESTING, maxInputLength: Number.MAX_SAFE_INTEGER },
  selectors: [
    { selector: 'a', options: { ignoreHref: !links, linkBrackets: ['[', ']'] } },
    { selector: 'img', format: 'skip' },
    // A <template>'s content is markup kept for scripts to copy; a browser never renders it.
    { selector: 'template', format: 'skip' },
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
  checkNesting(html);
  try {
    return tidy(convert(html, layout(links)));
  } catch (error) {
    // A parser's own failure (a stack overflow on odd markup) is the file's, and final.
    throw ReamError.nonRetryable('invalid_text', `the markup cannot be laid out as text: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Lines without trailing blanks, at most one empty line in a row, none at the ends. */
function tidy(text: string): string {
  return text.split('\n').map((line) => line.trimEnd()).join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

/** The page's `<title>` and its author, description, keywords and generator `<meta>` fields. */
export function htmlMetadata(html: string): DocumentMetadata {
  checkNesting(html);
  const { texts, metas } = markupFields(html, ['title'], false);
  const out: DocumentMetadata = {
    title: texts.get('title'),
    author: metas.get('author'),
    subject: metas.get('description'),
    keywords: metas.get('keywords'),
    creator: metas.get('generator'),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined && v !== ''));
}

/** Where a page states its encoding: `<meta charset>` or the http-equiv Content-Type, in its first 1024 bytes (as browsers look). */
const META_CHARSET = /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i;

/**
 * The page's characters: UTF-8 by its byte-order mark, else the charset its `<meta>` states, else
 * UTF-8 when the bytes are valid UTF-8, else windows-1252 (what browsers assume for old pages).
 */
/** The encoding a byte order mark at the start names: UTF-8, UTF-16LE or UTF-16BE. */
export function bomEncoding(bytes: Uint8Array): 'utf-8' | 'utf-16le' | 'utf-16be' | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return undefined;
}

export function decodeHtml(bytes: Uint8Array): string {
  const bom = bomEncoding(bytes);
  if (bom) return new TextDecoder(bom).decode(bytes);
  const declared = META_CHARSET.exec(Buffer.from(bytes.subarray(0, 1024)).toString('latin1'))?.[1];
  if (declared) {
    try {
      const decoder = new TextDecoder(declared);
      // As browsers do (WHATWG "prescan"): a page whose own ASCII bytes declare UTF-16 is not UTF-16, so it is read as UTF-8.
      if (!decoder.encoding.startsWith('utf-16')) return decoder.decode(bytes);
      return new TextDecoder('utf-8').decode(bytes);
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

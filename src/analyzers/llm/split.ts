import type { PageText } from '../../formats/types.ts';

/** Below this many characters a single page is not cut further: the model's window is simply too small. */
export const MIN_PART_CHARS = 200;

/** Deepest splitting of one chunk for length, or of a reduce into stages (2^12 parts): beyond it the page itself is too long. */
export const MAX_SPLIT_DEPTH = 12;

export function canSplit(pages: readonly PageText[]): boolean {
  return pages.length > 1 || (pages[0]?.text.length ?? 0) >= MIN_PART_CHARS * 2;
}

/**
 * Halves a part that is too long for the model: by pages while it has several, else the one
 * page's text at the whitespace nearest its middle (both halves keep the page's number, so
 * provenance stays right).
 */
export function splitPages(pages: readonly PageText[]): [PageText[], PageText[]] {
  if (pages.length > 1) {
    const middle = Math.ceil(pages.length / 2);
    return [pages.slice(0, middle), pages.slice(middle)];
  }
  const [page] = pages;
  if (!page) return [[], []];
  const half = Math.floor(page.text.length / 2);
  const space = page.text.indexOf(' ', half);
  let cut = space === -1 || space - half > 200 ? half : space;
  // Never between the two halves of a surrogate pair (an emoji, a rare CJK character): each part
  // would hold half a character, which JSON sends as a lone escape the model cannot read.
  if (isLowSurrogate(page.text.charCodeAt(cut)) && cut > 0) cut--;
  return [[{ page: page.page, text: page.text.slice(0, cut) }], [{ page: page.page, text: page.text.slice(cut) }]];
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

// Is a page's text layer worth keeping, or should the page be read from its pixels? Pure
// functions; the PDF reader feeds them each page's text.

/**
 * Fewer letters than this share of the non-space characters is "glyph soup": a font whose
 * glyphs map to symbols, private-use code points or punctuation. Real prose is ~85–95% letters,
 * tables of figures ~40–60% digits — digits count with letters, so tables stay well above.
 */
const MIN_WORD_CHAR_SHARE = 0.5;

/**
 * More U+FFFD than this share of the non-space characters: the font has no Unicode map, pdf.js
 * (and pdftotext) print a replacement character per glyph, and the text says nothing.
 */
const MAX_REPLACEMENT_SHARE = 0.3;

/**
 * A letter share that settles it: the rest (replacement characters included) is then at most
 * MAX_REPLACEMENT_SHARE, and letters alone reach MIN_WORD_CHAR_SHARE, so the page is usable
 * whatever its digits and replacement characters are.
 */
const USABLE_BY_LETTERS = Math.max(1 - MAX_REPLACEMENT_SHARE, MIN_WORD_CHAR_SHARE);

export type TextQuality = 'usable' | 'empty' | 'garbage';

/**
 * `empty`: nothing but blanks. `garbage`: no letter at all (a scan that carries only a page
 * number), mostly replacement characters, or mostly symbols (see the thresholds above).
 * Otherwise `usable`. Letters and digits of every script count, so CJK and Arabic pages are usable.
 */
export function textQuality(text: string): TextQuality {
  // Counted by removing each class and measuring what went: no array of characters and no
  // regex call per character (this runs on every page). Outside the BMP a character is two
  // UTF-16 units, so such text is counted by code points instead.
  const length = SURROGATE.test(text) ? (s: string): number => [...s].length : (s: string): number => s.length;
  const visible = text.replace(/\s+/gu, '');
  const total = length(visible);
  if (total === 0) return 'empty';
  const letters = total - length(visible.replace(/\p{L}+/gu, ''));
  if (letters === 0) return 'garbage';
  // Prose ends here, without two more passes over the page (see USABLE_BY_LETTERS).
  if (letters / total >= USABLE_BY_LETTERS) return 'usable';
  const digits = total - length(visible.replace(/\p{N}+/gu, ''));
  const replacements = total - length(visible.replace(/\uFFFD+/gu, ''));
  if (replacements / total > MAX_REPLACEMENT_SHARE) return 'garbage';
  if ((letters + digits) / total < MIN_WORD_CHAR_SHARE) return 'garbage';
  return 'usable';
}

const SURROGATE = /[\uD800-\uDFFF]/;

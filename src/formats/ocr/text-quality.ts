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
  const { total, letters, digits, replacements } = countClasses(text);
  if (total === 0) return 'empty';
  if (letters === 0) return 'garbage';
  if (letters / total >= USABLE_BY_LETTERS) return 'usable';
  if (replacements / total > MAX_REPLACEMENT_SHARE) return 'garbage';
  if ((letters + digits) / total < MIN_WORD_CHAR_SHARE) return 'garbage';
  return 'usable';
}

// Character classes, as countClasses sorts them.
const BLANK = 1;
const LETTER = 2;
const DIGIT = 3;
const REPLACEMENT = 4;
const OTHER = 5;

/**
 * Each UTF-16 unit's class, filled in as units are met (0: not classified yet). This runs on
 * every page a PDF engine reads: one pass and a table lookup per character, not a regex
 * replacement per class over the page. Characters outside the BMP (a surrogate pair) are
 * classified by their code point each time.
 */
const unitClass = new Uint8Array(0x10000);

/** Non-blank code points, and of them letters (\p{L}), numbers (\p{N}) and U+FFFD. */
function countClasses(text: string): { total: number; letters: number; digits: number; replacements: number } {
  let total = 0;
  let letters = 0;
  let digits = 0;
  let replacements = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    let kind: number;
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      kind = classify(String.fromCharCode(unit, text.charCodeAt(i + 1)));
      i++;
    } else {
      kind = unitClass[unit] ?? 0;
      if (kind === 0) unitClass[unit] = kind = classify(String.fromCharCode(unit));
    }
    if (kind === BLANK) continue;
    total++;
    if (kind === LETTER) letters++;
    else if (kind === DIGIT) digits++;
    else if (kind === REPLACEMENT) replacements++;
  }
  return { total, letters, digits, replacements };
}

const isLowSurrogate = (unit: number): boolean => unit >= 0xdc00 && unit <= 0xdfff;

/** One character's class (a lone surrogate is OTHER, as a code point of its own). */
function classify(char: string): number {
  if (/^\s$/u.test(char)) return BLANK;
  if (/^\p{L}$/u.test(char)) return LETTER;
  if (/^\p{N}$/u.test(char)) return DIGIT;
  return char === '\uFFFD' ? REPLACEMENT : OTHER;
}

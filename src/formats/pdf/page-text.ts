// Turns pdf.js text runs into the plain text of one page, close to what `pdftotext` (poppler,
// default reading-order mode) prints, because that is the yardstick users compare us with.
// Pure functions, no pdf.js import: the worker feeds them, tests call them directly.

/** The part of a pdf.js `TextItem` this module reads. `transform` is `[a, b, c, d, e, f]`. */
export interface TextRun {
  str: string;
  hasEOL: boolean;
  transform: readonly number[];
  width: number;
  height: number;
}

/**
 * Assembles runs into lines. pdf.js already marks line ends (`hasEOL`) and inserts `' '` runs
 * where it sees word gaps; positions cover what it misses: a run whose baseline moved by more
 * than half a line starts a new line, and a horizontal gap wider than {@link WORD_GAP} of the
 * font size between two runs that carry no space becomes one.
 */
export function pageText(runs: Iterable<TextRun>): string {
  const lines: string[] = [];
  let line = '';
  let prev: TextRun | undefined;
  for (const run of withoutOverprints(runs)) {
    if (prev !== undefined && run.str !== '') {
      if (movedToNewLine(prev, run)) {
        lines.push(line);
        line = '';
      } else if (hasWordGap(prev, run) && !/\s$/.test(line) && !/^\s/.test(run.str)) {
        line += ' ';
      }
    }
    line += run.str;
    if (run.hasEOL) {
      lines.push(line);
      line = '';
      prev = undefined;
    } else if (run.str.trim() !== '') {
      prev = run;
    }
  }
  lines.push(line);
  return tidyLines(lines);
}

/** How many recent runs an overprint is looked for among. */
const OVERPRINT_WINDOW = 32;

/**
 * Drops runs that repeat a recent run's text at (nearly) the same spot: the fake bold and
 * drop shadows some producers draw by printing a string two or three times, offset by a
 * fraction of a point. poppler drops them too; without this "Echelle" comes out three times.
 */
function* withoutOverprints(runs: Iterable<TextRun>): Generator<TextRun> {
  const recent: TextRun[] = [];
  for (const run of runs) {
    if (run.str.trim() === '') {
      yield run;
      continue;
    }
    const tolerance = 0.2 * fontSize(run);
    const [, , , , x = 0, y = 0] = run.transform;
    const repeated = recent.some(
      (r) => r.str === run.str && Math.abs((r.transform[4] ?? 0) - x) < tolerance && Math.abs((r.transform[5] ?? 0) - y) < tolerance,
    );
    if (repeated) {
      if (run.hasEOL) yield { ...run, str: '' }; // keep the line end it carried
      continue;
    }
    recent.push(run);
    if (recent.length > OVERPRINT_WINDOW) recent.shift();
    yield run;
  }
}

/** A gap between runs on one line wider than this fraction of the font size is a word break. */
const WORD_GAP = 0.15;

function fontSize(run: TextRun): number {
  return Math.hypot(run.transform[2] ?? 0, run.transform[3] ?? 0) || run.height || 1;
}

function movedToNewLine(prev: TextRun, run: TextRun): boolean {
  const [a = 1, b = 0] = prev.transform;
  // Only judge upright text: rotated and vertical runs are left to pdf.js's own `hasEOL`.
  if (Math.abs(b) > 1e-3 * Math.abs(a) || Math.abs(run.transform[1] ?? 0) > 1e-3) return false;
  const dy = Math.abs((run.transform[5] ?? 0) - (prev.transform[5] ?? 0));
  return dy > 0.5 * Math.max(fontSize(prev), fontSize(run));
}

function hasWordGap(prev: TextRun, run: TextRun): boolean {
  const [a = 1, b = 0] = prev.transform;
  if (Math.abs(b) > 1e-3 * Math.abs(a) || a <= 0) return false;
  const gap = (run.transform[4] ?? 0) - ((prev.transform[4] ?? 0) + prev.width);
  return gap > WORD_GAP * Math.max(fontSize(prev), fontSize(run));
}

/**
 * Cleans assembled lines: control characters out, runs of blanks to one space, at most one
 * empty line in a row, words split by a line-end hyphen joined again (poppler does the same),
 * and TeX-style accents (a spacing `¨` drawn before its letter) composed into one character.
 */
export function tidyLines(lines: readonly string[]): string {
  const out: string[] = [];
  for (const raw of lines) {
    const line = cleanLine(raw);
    const last = out.length - 1;
    const before = out[last];
    if (line === '') {
      if (before !== undefined && before !== '') out.push('');
      continue;
    }
    if (before !== undefined && HYPHENATED.test(before) && /^\p{Ll}/u.test(line)) {
      out[last] = before.slice(0, -1) + line;
      continue;
    }
    out.push(line);
  }
  while (out.at(-1) === '') out.pop();
  return composeAccents(out.join('\n'));
}

/** A line ending in a letter and a hyphen (ASCII, soft or Unicode hyphen). */
const HYPHENATED = /\p{L}[-\u00AD\u2010]$/u;

/**
 * What cleanLine changes besides blanks at the ends: U+FFFF, C0/C1 controls (tab and line
 * breaks among them), blanks other than a space (as `\s` knows them), two spaces in a row.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const NEEDS_CLEANING = /[\u0000-\u001F\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\uFFFF]| {2}/;

function cleanLine(line: string): string {
  // Most lines have nothing to clean: one test instead of three replacements.
  if (!NEEDS_CLEANING.test(line)) return line.trim();
  return line
    // U+FFFF is a noncharacter pdf.js emits for unmapped glyphs; poppler prints U+FFFD there.
    .replace(/\uFFFF/g, '\uFFFD')
    // C0/C1 controls (NUL from broken ToUnicode maps, stray form feeds that would split pages).
    // eslint-disable-next-line no-control-regex -- removing control characters is the point
    .replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g, '')
    .replace(/[\s\u00A0]+/g, ' ')
    .trim();
}

/** Spacing accents as TeX's OT1/T1 fonts draw them, mapped to their combining forms. */
const ACCENTS: Readonly<Record<string, string>> = {
  '\u00A8': '\u0308', // ¨ diaeresis
  '\u00B4': '\u0301', // ´ acute
  '\u00AF': '\u0304', // ¯ macron
  '\u00B8': '\u0327', // ¸ cedilla
  '\u02C6': '\u0302', // ˆ circumflex
  '\u02DC': '\u0303', // ˜ tilde
  '\u02C7': '\u030C', // ˇ caron
  '\u02D8': '\u0306', // ˘ breve
  '\u02D9': '\u0307', // ˙ dot above
  '\u02DA': '\u030A', // ˚ ring above
  '\u02DB': '\u0328', // ˛ ogonek
  '\u02DD': '\u030B', // ˝ double acute
};
const SPACING_ACCENT_BEFORE_LETTER = /([\u00A8\u00B4\u00AF\u00B8\u02C6\u02DC\u02C7\u02D8\u02D9\u02DA\u02DB\u02DD])(\p{L})/gu;

/**
 * `Gesch¨aftsf¨uhrer` → `Geschäftsführer`. ASCII `^`, `~` and `` ` `` are left alone: in code
 * samples they are real characters far more often than accents.
 */
function composeAccents(text: string): string {
  if (!/[\u00A8\u00B4\u00AF\u00B8\u02C6\u02DC\u02C7\u02D8\u02D9\u02DA\u02DB\u02DD]/.test(text)) return text;
  return text.replace(SPACING_ACCENT_BEFORE_LETTER, (_, accent: string, letter: string) => `${letter}${ACCENTS[accent] ?? ''}`).normalize('NFC');
}

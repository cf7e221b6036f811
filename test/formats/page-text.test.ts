import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pageText, tidyLines, type TextRun } from '../../src/formats/pdf/page-text.ts';
import { parsePdfDate } from '../../src/formats/pdf/pdf-date.ts';

/** A horizontal run of `size`-point text at (x, y), `width` wide. */
const run = (str: string, x: number, y: number, options: { width?: number; size?: number; eol?: boolean } = {}): TextRun => {
  const size = options.size ?? 10;
  return { str, hasEOL: options.eol ?? false, transform: [size, 0, 0, size, x, y], width: options.width ?? str.length * size * 0.5, height: size };
};

void test('runs become lines at hasEOL and where the baseline moves; gaps become spaces', () => {
  const text = pageText([
    run('Hello', 0, 700, { width: 25 }),
    run('world', 27, 700, { width: 25 }), // 2 pt gap: under 0.15 × 10 pt? no, 2 > 1.5 → space
    run('again', 52.5, 700, { width: 25, eol: true }), // touching: no space
    run('Second', 0, 688, { width: 30 }),
    run('line', 0, 676, { width: 20 }), // moved down a line without hasEOL
  ]);
  assert.equal(text, 'Hello worldagain\nSecond\nline');
});

void test('overprinted runs (fake bold, shadows) come out once', () => {
  const text = pageText([
    run('Echelle', 100, 500, { width: 40 }),
    run('Echelle', 100.7, 500.7, { width: 40 }),
    run('Echelle', 100, 500, { width: 40, eol: true }),
    run('Echelle', 100, 300, { width: 40 }), // same words elsewhere on the page are real
  ]);
  assert.equal(text, 'Echelle\nEchelle');
});

void test('tidying: blanks collapse, controls go, hyphenated line ends join, one empty line at most', () => {
  assert.equal(tidyLines(['  a \t b\u0000c  ', '', '', '', 'infor-', 'mation and X-', 'Ray', 'soft\u00AD', 'ware', '', '']), 'a bc\n\ninformation and X-\nRay\nsoftware');
  assert.equal(tidyLines(['', 'x\uFFFFy']), 'x\uFFFDy');
});

void test('a line with nothing to clean but its ends comes out as the full cleaning makes it', () => {
  // The full cleaning, every replacement on every line: what the shortcut for clean lines must agree with.
  // eslint-disable-next-line no-control-regex -- control characters are what it removes
  const cleanInFull = (line: string): string => line.replace(/\uFFFF/g, '\uFFFD').replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g, '').replace(/[\s\u00A0]+/g, ' ').trim();
  const alphabet = ['a', 'é', '7', ' ', ' ', ' ', '\t', '\u00A0', '\u2003', '\u3000', '\uFEFF', '\u2028', '\u0000', '\u0085', '\u001F', '\uFFFF', '\u00AD'];
  let seed = 7;
  const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let i = 0; i < 5_000; i++) {
    const line = Array.from({ length: next(12) }, () => alphabet[next(alphabet.length)]).join('');
    assert.equal(tidyLines([line]), cleanInFull(line), JSON.stringify(line));
  }
});

void test('TeX accents drawn before their letter are composed (poppler does the same)', () => {
  assert.equal(tidyLines(['Gesch\u00A8aftsf\u00A8uhrer, caf\u00B4e, \u02C7cesky']), 'Geschäftsführer, café, česky');
  assert.equal(tidyLines(['a^b ~user `code`']), 'a^b ~user `code`', 'ASCII look-alikes stay');
});

void test('PDF dates become ISO 8601 UTC; junk becomes undefined', () => {
  assert.equal(parsePdfDate("D:20200618095809+02'00'"), '2020-06-18T07:58:09Z');
  assert.equal(parsePdfDate('D:20240506070809Z'), '2024-05-06T07:08:09Z');
  assert.equal(parsePdfDate("D:19991231235959-08'30"), '2000-01-01T08:29:59Z');
  assert.equal(parsePdfDate('D:2006'), '2006-01-01T00:00:00Z');
  assert.equal(parsePdfDate('20060124103328'), '2006-01-24T10:33:28Z');
  assert.equal(parsePdfDate('D:20230230120000Z'), undefined, '30 February');
  assert.equal(parsePdfDate('D:20231301'), undefined);
  assert.equal(parsePdfDate('yesterday'), undefined);
});

// The cheap part of the OCR decision, without pdf.js or tesseract: is a text layer usable, and
// how much of a page do its images cover.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OPS } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { parseOcrOptions } from '../../src/formats/ocr/ocr-options.ts';
import { textQuality } from '../../src/formats/ocr/text-quality.ts';
import { imageCoverage } from '../../src/formats/pdf/page-image.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';

void test('a text layer is usable unless it is empty, letterless, replacement characters or symbols', () => {
  assert.equal(textQuality('Invoice 4711, due 2024-05-06'), 'usable');
  assert.equal(textQuality('第一章 总则'), 'usable');
  assert.equal(textQuality('Umsatz 2023: 1.234.567 €'), 'usable');
  assert.equal(textQuality(' \n\t '), 'empty');
  assert.equal(textQuality('12'), 'garbage', 'a page number alone says nothing of a scan');
  assert.equal(textQuality('\uFFFD\uFFFD\uFFFD\uFFFD a'), 'garbage');
  assert.equal(textQuality('#$%& !*(+ a'), 'garbage', 'glyph soup');
  assert.equal(textQuality('\uE001\uE002\uE003\uE004 ab'), 'garbage', 'private-use glyphs');
});

/** The text-quality rule counted in full, every class on every page: what the shortcut must agree with. */
function qualityInFull(text: string): string {
  const chars = [...text.replace(/\s+/gu, '')];
  if (chars.length === 0) return 'empty';
  const count = (re: RegExp): number => chars.filter((c) => re.test(c)).length;
  const letters = count(/\p{L}/u);
  if (letters === 0) return 'garbage';
  if (count(/\uFFFD/u) / chars.length > 0.3) return 'garbage';
  return (letters + count(/\p{N}/u)) / chars.length < 0.5 ? 'garbage' : 'usable';
}

void test('the one-pass count and its letter-share shortcut decide every page as the full count does', () => {
  // Mixes around the thresholds: letters (one outside the BMP), digits, replacement characters,
  // symbols, blanks (Unicode's too), and lone surrogates, which count as a character each.
  const alphabet = ['a', 'é', '字', '𝐀', '7', '٣', '𝟕', '\uFFFD', '#', '•', '\uE001', ' ', '\n', '\t', '\u00A0', '\u3000', '\uD800', '\uDC00'];
  let seed = 42;
  const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const seen = new Set<string>();
  for (let i = 0; i < 5_000; i++) {
    if (i === 0) assert.equal(textQuality(' \n '), qualityInFull(' \n '));
    const text = Array.from({ length: 1 + next(40) }, () => alphabet[next(alphabet.length)]).join('');
    const expected = qualityInFull(text);
    seen.add(expected);
    assert.equal(textQuality(text), expected, JSON.stringify(text));
  }
  assert.deepEqual([...seen].sort(), ['empty', 'garbage', 'usable'], 'every answer was put to the test');
});

void test('image coverage follows the transforms, save/restore and form XObjects', () => {
  const page = 600 * 800;
  // A full-page scan: one image under the page's size.
  assert.equal(imageCoverage([OPS.save, OPS.transform, OPS.paintImageXObject, OPS.restore], [null, [600, 0, 0, 800, 0, 0], ['img'], null], page), 1);
  // A logo of 60 × 80 points: 1%.
  assert.equal(imageCoverage([OPS.save, OPS.transform, OPS.paintImageXObject, OPS.restore], [null, [60, 0, 0, 80, 10, 10], ['img'], null], page), 0.01);
  // An image in a form scaled by half, after a restore of an unrelated transform.
  const fns = [OPS.save, OPS.transform, OPS.restore, OPS.paintFormXObjectBegin, OPS.transform, OPS.paintInlineImageXObject, OPS.paintFormXObjectEnd];
  const args = [null, [9, 0, 0, 9, 0, 0], null, [[0.5, 0, 0, 0.5, 0, 0], [0, 0, 600, 800]], [600, 0, 0, 800, 0, 0], [{}], null];
  assert.equal(imageCoverage(fns, args, page), 0.25);
  assert.equal(imageCoverage([OPS.paintImageXObject], [['img']], 0), 0, 'a page without area');
});

void test('OCR options: defaults, languages joined with +, and refusals', async () => {
  assert.deepEqual(parseOcrOptions({}), { mode: 'auto', languages: ['eng'], dpi: 300, engine: 'auto' });
  assert.deepEqual(parseOcrOptions({ ocr: 'never', ocrLanguages: 'eng+fra+eng', ocrDpi: 200 }), { mode: 'never', languages: ['eng', 'fra'], dpi: 200, engine: 'auto' });
  assert.equal(parseOcrOptions({ ocrEngine: 'tesseractjs' }).engine, 'tesseractjs');
  assert.deepEqual(parseOcrOptions({ ocrLanguages: ['deu'] }).languages, ['deu']);
  const refused = async (options: Parameters<typeof parseOcrOptions>[0], message: RegExp): Promise<void> => {
    await rejectsWithCode(Promise.resolve().then(() => parseOcrOptions(options)), 'validation_failed', message);
  };
  await refused({ ocr: 'sometimes' }, /"ocr" must be one of auto, always, never/);
  await refused({ ocrEngine: 'ocrad' }, /"ocrEngine" must be one of auto, tesseract, tesseractjs/);
  await refused({ ocrDpi: 30 }, /from 72 to 600/);
  await refused({ ocrDpi: 300.5 }, /integer/);
  await refused({ ocrLanguages: [] }, /non-empty list/);
  await refused({ ocrLanguages: ['../../etc'] }, /not a tesseract language code/);
  await refused({ ocrLanguages: ['spa'] }, /install @tesseract\.js-data\/spa/);
});

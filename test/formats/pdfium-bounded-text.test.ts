// PDFium's page text is read in one call into a buffer sized from the page's characters
// (src/formats/pdf/pdfium.ts, boundedText). Asked for the size first, PDFium counts characters,
// not UTF-16 units, so a page with characters outside the BMP came out cut short.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readPdfiumPages } from '../../src/formats/pdf/pdfium.ts';
import { corpusDir, requireCorpus } from '../support/env.ts';

void test('PDFium: a page with characters outside the BMP is read whole, with no terminator', async (t) => {
  if (!requireCorpus(t)) return;
  // Page 2 ends its Greek numerals' line with U+10147 and carries a page number after it.
  const range = await readPdfiumPages(`${corpusDir}/lang-greek__greek-inputenc__greek-utf8-minimal.pdf`, undefined, 1, 2, () => false);
  const lines = range.pages[0]?.lines ?? [];
  const text = lines.join('\n');
  assert.match(text, /Numbers : 𐅄 𐅅 𐅆 𐅇$/m);
  assert.equal(lines.at(-1), '2', 'the page number, last on the page');
  assert.doesNotMatch(text, /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])/, 'no terminator, no lone surrogate');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { MARKDOWN_MEDIA_TYPE, PDF_MEDIA_TYPE, TEXT_MEDIA_TYPE, hasPdfHeader, looksLikeUtf8Text, sniff } from '../../src/formats/sniff.ts';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));

function sniffError(head: Uint8Array, name: string): ReamError {
  try {
    sniff(head, name);
  } catch (error) {
    assert.ok(error instanceof ReamError);
    return error;
  }
  assert.fail(`sniff(${name}) should have thrown`);
}

void test('PDFs are known by their header, anywhere in the first 1024 bytes, whatever their name', () => {
  assert.equal(sniff(bytes('%PDF-1.7\n'), 'a.pdf'), PDF_MEDIA_TYPE);
  assert.equal(sniff(bytes('junk before\r\n%PDF-1.4'), 'scan'), PDF_MEDIA_TYPE);
  assert.equal(sniff(bytes('%PDF-2.0'), 'report.txt'), PDF_MEDIA_TYPE, 'content beats the extension');
  assert.equal(sniff(bytes('# Notes\nEvery PDF starts with %PDF-1.x.\n'), 'notes.md'), MARKDOWN_MEDIA_TYPE, 'text that mentions the header');
  assert.equal(sniff(bytes('# Notes\nEvery PDF starts with %PDF-1.x.\n'), 'notes'), PDF_MEDIA_TYPE, 'no text extension: the header wins');
  assert.equal(hasPdfHeader(bytes('x'.repeat(1019), '%PDF-')), true);
  assert.equal(hasPdfHeader(bytes('x'.repeat(1020), '%PDF-')), false);
});

void test('known binary formats are unsupported_type and say what they are, even when named .pdf', () => {
  const cases: [Uint8Array, RegExp][] = [
    [bytes([0x89], 'PNG\r\n', [0x1a, 0x0a, 0, 0]), /PNG image/],
    [bytes([0xff, 0xd8, 0xff, 0xe0]), /JPEG image/],
    [bytes('GIF89a'), /GIF image/],
    [bytes('II*', [0]), /TIFF image/],
    [bytes('PK', [3, 4], 'xl/workbook.xml'), /ZIP archive.*XLSX/],
    [bytes([0x1f, 0x8b, 8, 0]), /gzip/],
  ];
  for (const [head, what] of cases) {
    const error = sniffError(head, 'upload.pdf');
    assert.equal(error.code, 'unsupported_type');
    assert.match(error.message, what);
    assert.equal(error.details?.extension, '.pdf');
  }
});

void test('a .pdf that is not a PDF is invalid_pdf', () => {
  const error = sniffError(bytes('Dear customer,\nplease find attached…'), 'invoice.PDF');
  assert.equal(error.code, 'invalid_pdf');
  assert.match(error.message, /named \.pdf but does not start with %PDF-/);
});

void test('text: .txt/.md/.markdown by name, extensionless only when the bytes are UTF-8 text', () => {
  assert.equal(sniff(bytes('hello'), 'notes.txt'), TEXT_MEDIA_TYPE);
  assert.equal(sniff(bytes('# Title'), 'README.md'), MARKDOWN_MEDIA_TYPE);
  assert.equal(sniff(bytes('# Title'), 'guide.Markdown'), MARKDOWN_MEDIA_TYPE);
  assert.equal(sniff(new TextEncoder().encode('plain words, 中文'), 'README'), TEXT_MEDIA_TYPE);
  assert.equal(sniffError(bytes([0xc3, 0x28, 0x41]), 'blob').code, 'unsupported_type');
  assert.equal(sniffError(bytes('a', [0], 'b'), 'blob').code, 'unsupported_type');
});

void test('anything else is unsupported_type, CSV included (for now)', () => {
  const csv = sniffError(bytes('a,b,c\n1,2,3\n'), 'wine_data.csv');
  assert.equal(csv.code, 'unsupported_type');
  assert.match(csv.message, /\.csv/);
  assert.equal(sniffError(bytes('<html>'), 'page.html').code, 'unsupported_type');
});

void test('a UTF-8 sequence cut by the end of the sniffed bytes still counts as text', () => {
  const full = new TextEncoder().encode('añ中😀');
  for (let cut = 1; cut <= full.length; cut++) {
    const prefix = full.subarray(0, cut);
    assert.equal(looksLikeUtf8Text(prefix), true, `prefix of ${cut} bytes`);
  }
  assert.equal(looksLikeUtf8Text(bytes('ok', [0xff], 'ok')), false);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import {
  CSV_MEDIA_TYPE, DOCX_MEDIA_TYPE, EMAIL_MEDIA_TYPE, HTML_MEDIA_TYPE, JPEG_MEDIA_TYPE, MARKDOWN_MEDIA_TYPE, PDF_MEDIA_TYPE, PNG_MEDIA_TYPE, TEXT_MEDIA_TYPE,
  TIFF_MEDIA_TYPE, WEBP_MEDIA_TYPE, XLSX_MEDIA_TYPE, hasPdfHeader, looksLikeUtf8Text, sniff,
} from '../../src/formats/sniff.ts';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));

/** A ZIP local file header for an entry called `name` (sizes and dates zero: the sniffer reads names only). */
const zipHead = (name: string): number[] => [0x50, 0x4b, 0x03, 0x04, ...Array<number>(22).fill(0), name.length & 0xff, name.length >> 8, 0, 0, ...Buffer.from(name, 'latin1')];

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
    [bytes('GIF89a'), /GIF image/],
    [bytes('BM', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), /BMP image/],
    [bytes(zipHead('ppt/presentation.xml')), /ZIP archive/],
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

void test('anything else is unsupported_type', () => {
  const odd = sniffError(bytes('<x/>'), 'drawing.svg');
  assert.equal(odd.code, 'unsupported_type');
  assert.match(odd.message, /\.svg/);
});

void test('images by their signature, whatever their name; a .png (.jpg, .tif, .webp) that is none is invalid_image', () => {
  assert.equal(sniff(bytes([0x89], 'PNG\r\n', [0x1a, 0x0a, 0, 0]), 'scan.pdf'), PNG_MEDIA_TYPE);
  assert.equal(sniff(bytes([0xff, 0xd8, 0xff, 0xe0]), 'photo.png'), JPEG_MEDIA_TYPE);
  assert.equal(sniff(bytes('II*', [0]), 'fax'), TIFF_MEDIA_TYPE);
  assert.equal(sniff(bytes('MM', [0, 0x2a]), 'fax.tif'), TIFF_MEDIA_TYPE);
  assert.equal(sniff(bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '), 'x.webp'), WEBP_MEDIA_TYPE);
  const notImage = sniffError(bytes('hello'), 'scan.JPG');
  assert.equal(notImage.code, 'invalid_image');
  assert.match(notImage.message, /named \.jpg/);
  assert.equal(sniffError(bytes('GIF89a'), 'scan.png').code, 'unsupported_type', 'a GIF is named for what it is');
});

void test('HTML: by name, or without one by a doctype or <html>; e-mail: by name, or without one by its header fields', () => {
  assert.equal(sniff(bytes('<p>hi</p>'), 'page.htm'), HTML_MEDIA_TYPE);
  assert.equal(sniff(bytes('caf', [0xe9], ' <b>latin-1</b>'), 'page.html'), HTML_MEDIA_TYPE, 'any encoding');
  assert.equal(sniff(bytes('\n  <!DOCTYPE html><title>t</title>'), 'download'), HTML_MEDIA_TYPE);
  assert.equal(sniff(bytes('<!-- generated --><HTML><BODY>x'), 'download'), HTML_MEDIA_TYPE);
  assert.equal(sniff(bytes('<!DOCTYPE html>'), 'notes.txt'), TEXT_MEDIA_TYPE, 'the name picks between readers the content allows');
  assert.equal(sniff(bytes('Hello <b>there</b>'), 'notes'), TEXT_MEDIA_TYPE);
  assert.equal(sniffError(bytes('<html>', [0]), 'page.html').code, 'invalid_text');
  const mail = 'Received: from a by b\r\n\tfolded; Fri, 20 Apr 2001\r\nFrom: Ann <a@x.org>\r\nSubject: hi\r\n\r\nbody';
  assert.equal(sniff(bytes(mail), 'message'), EMAIL_MEDIA_TYPE);
  assert.equal(sniff(bytes('Subject: only one field\n\nbody'), 'message'), TEXT_MEDIA_TYPE, 'one field makes no message');
  assert.equal(sniff(bytes('From: a\nnot a header line\nTo: b\n\n'), 'message'), TEXT_MEDIA_TYPE);
  assert.equal(sniff(bytes('anything'), 'saved.eml'), EMAIL_MEDIA_TYPE, 'the reader then checks it');
  assert.equal(sniffError(bytes('x', [0]), 'saved.eml').code, 'invalid_email');
});

void test('CSV: a .csv of UTF-8 text; a .csv of binary bytes is invalid_sheet; without the name, CSV text is text', () => {
  assert.equal(sniff(bytes('a,b,c\n1,2,3\n'), 'wine_data.csv'), CSV_MEDIA_TYPE);
  assert.equal(sniff(bytes([0xef, 0xbb, 0xbf], 'a;b\n1;2\n'), 'BOM.CSV'), CSV_MEDIA_TYPE);
  assert.equal(sniffError(bytes('a,', [0], 'b'), 'data.csv').code, 'invalid_sheet');
  assert.equal(sniff(bytes('a,b,c\n1,2,3\n'), 'data'), TEXT_MEDIA_TYPE);
});

void test('XLSX: a ZIP with entries under xl/, or a ZIP named .xlsx; a .xlsx that is no ZIP is invalid_sheet', () => {
  assert.equal(sniff(bytes(zipHead('xl/workbook.xml')), 'book'), XLSX_MEDIA_TYPE, 'the content decides');
  assert.equal(sniff(bytes(zipHead('[Content_Types].xml'), [1, 2, 3], zipHead('xl/_rels/workbook.xml.rels')), 'upload.bin'), XLSX_MEDIA_TYPE, 'any xl/ entry in the head');
  assert.equal(sniff(bytes(zipHead('[Content_Types].xml')), 'book.xlsx'), XLSX_MEDIA_TYPE, 'a ZIP named .xlsx: the reader decides');
  const notZip = sniffError(bytes('id,name\n1,a\n'), 'book.xlsx');
  assert.equal(notZip.code, 'invalid_sheet');
  assert.match(notZip.message, /not a ZIP/);
});

void test('DOCX: a ZIP with entries under word/, or a ZIP named .docx; a .docx that is no ZIP is invalid_docx', () => {
  assert.equal(sniff(bytes(zipHead('[Content_Types].xml'), zipHead('word/document.xml')), 'letter'), DOCX_MEDIA_TYPE);
  assert.equal(sniff(bytes(zipHead('word/document.xml')), 'letter.xlsx'), DOCX_MEDIA_TYPE, 'the content decides');
  assert.equal(sniff(bytes(zipHead('[Content_Types].xml')), 'letter.docx'), DOCX_MEDIA_TYPE, 'the directory decides later');
  const notZip = sniffError(bytes('Dear Sir'), 'letter.docx');
  assert.equal(notZip.code, 'invalid_docx');
  assert.match(notZip.message, /not a ZIP/);
});

void test('a UTF-8 sequence cut by the end of the sniffed bytes still counts as text', () => {
  const full = new TextEncoder().encode('añ中😀');
  for (let cut = 1; cut <= full.length; cut++) {
    const prefix = full.subarray(0, cut);
    assert.equal(looksLikeUtf8Text(prefix), true, `prefix of ${cut} bytes`);
  }
  assert.equal(looksLikeUtf8Text(bytes('ok', [0xff], 'ok')), false);
});

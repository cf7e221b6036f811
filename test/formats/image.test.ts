// Images as documents: PNG, JPEG, WebP (one page) and TIFF (one page per frame), each page read
// by OCR. `ocr: "never"` says `needs_ocr` instead; a picture too large is refused before it is
// decoded; a broken one fails its page with `invalid_image`. Real files: CPython's test images.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { truncation } from '../../src/formats/image/image-truncation.ts';
import { DEFAULT_OCR } from '../../src/formats/ocr/ocr-options.ts';
import { createFormats, type Formats } from '../../src/formats/registry.ts';
import type { Extraction, OcrOptions, ReadLimits } from '../../src/formats/types.ts';
import { createThreadPool, type ThreadPool } from '../../src/runtime/thread-pool.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { makeImage, makeTiff } from '../support/make-image.ts';
import { words } from './text-similarity.ts';

const limits: ReadLimits = { maxBytes: 50 * 2 ** 20, maxPages: 1_000 };
const FIXTURES = new URL('../fixtures/real/', import.meta.url).pathname;
const LINES = ['Invoice number 4711 from Example Trading', 'The quick brown fox jumps over the lazy dog'];
const FRAMES = [['First frame of the faxed letter'], ['Second frame with the signature']];

/** The expected words OCR missed in `text` (case aside). */
function missed(expected: readonly string[], text: string): string[] {
  const found = new Set(words(text).map((w) => w.toLowerCase()));
  return words(expected.join(' ')).map((w) => w.toLowerCase()).filter((w) => !found.has(w));
}

void describe('images as documents', () => {
  let pool: ThreadPool;
  let formats: Formats;
  let dir: string;

  const read = async (path: string, ocr?: Partial<OcrOptions>, name?: string): Promise<Extraction & { mediaType: string }> => {
    const format = await formats.identify(path, name, limits);
    const { pageCount } = await format.inspect(path, limits);
    const extraction = await format.extract(path, { from: 0, to: pageCount }, undefined, ocr ? { ocr: { ...DEFAULT_OCR, ...ocr } } : {});
    return { ...extraction, mediaType: format.mediaType };
  };
  const file = async (name: string, bytes: Uint8Array): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  };

  before(async () => {
    pool = createThreadPool({ threads: 2 });
    formats = createFormats(pool);
    dir = await mkdtemp(join(tmpdir(), 'ream-image-'));
  });
  after(async () => {
    await pool?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const type of ['image/png', 'image/jpeg', 'image/webp'] as const) {
    void test(`${type}: one page, read by OCR, with its confidence and time`, async () => {
      // No extension: the content decides.
      const { pages, failures, warnings, mediaType } = await read(await file(`scan-${type.slice(6)}`, makeImage(LINES, type)));
      assert.equal(mediaType, type);
      assert.deepEqual(failures, []);
      assert.equal(warnings, undefined);
      assert.equal(pages.length, 1);
      const [page] = pages;
      assert.equal(page?.source, 'ocr');
      assert.deepEqual(missed(LINES, page?.text ?? ''), [], page?.text);
      assert.ok((page?.confidence ?? 0) > 70, `confidence ${page?.confidence}`);
      assert.ok((page?.ocrMs ?? 0) > 0);
    });
  }

  void test('an image OCR finds no word on is never a silent empty success: a no_text_found warning', async () => {
    const { pages, failures, warnings } = await read(await file('blank.png', makeImage([], 'image/png')));
    assert.deepEqual(failures, []);
    assert.deepEqual(pages.map((p) => [p.page, p.source, p.text.trim()]), [[1, 'ocr', '']]);
    assert.deepEqual(warnings?.map((w) => [w.page, w.code]), [[1, 'no_text_found']]);
  });

  void test('an image file cut short is read as far as it goes, with an invalid_image warning on its first page', async () => {
    for (const type of ['image/png', 'image/jpeg', 'image/webp'] as const) {
      const whole = makeImage(LINES, type);
      assert.equal(truncation(Buffer.from(whole), type), undefined, `${type}: whole`);
      const cut = Buffer.from(whole.subarray(0, Math.floor(whole.length * 0.6)));
      assert.match(truncation(cut, type) ?? '', /cut short|shorter than its header/, type);
      if (type === 'image/webp') continue; // a cut WebP does not decode at all: its page fails with invalid_image
      const { warnings, failures } = await read(await file(`cut.${type.slice(6)}`, cut));
      assert.deepEqual(failures, [], type);
      assert.deepEqual(warnings?.filter((w) => w.code === 'invalid_image').map((w) => w.page), [1], `${type}: ${JSON.stringify(warnings)}`);
    }
    const tiff = Buffer.from(makeTiff(FRAMES));
    assert.equal(truncation(tiff, 'image/tiff'), undefined, 'a whole TIFF');
    assert.match(truncation(tiff.subarray(0, Math.floor(tiff.length * 0.6)), 'image/tiff') ?? '', /TIFF file is cut short/);
  });

  void test('a multi-page TIFF: one page per frame, each with its own text', async () => {
    const { pages, failures, mediaType } = await read(await file('fax.tif', makeTiff(FRAMES)));
    assert.equal(mediaType, 'image/tiff');
    assert.deepEqual(failures, []);
    assert.deepEqual(pages.map((p) => [p.page, p.source]), [[1, 'ocr'], [2, 'ocr']]);
    pages.forEach((page, i) => assert.deepEqual(missed(FRAMES[i] ?? [], page.text), [], page.text));
  });

  void test('ocr: "never" leaves every page empty with a needs_ocr warning', async () => {
    const { pages, warnings } = await read(await file('never.tiff', makeTiff(FRAMES)), { mode: 'never' });
    assert.deepEqual(pages.map((p) => [p.page, p.text]), [[1, ''], [2, '']]);
    assert.deepEqual(warnings?.map((w) => [w.page, w.code]), [[1, 'needs_ocr'], [2, 'needs_ocr']]);
  });

  void test('a picture declaring more pixels than the limit is refused with resource_limit before it is decoded', async () => {
    // A PNG signature and an IHDR of 100 000 × 100 000 pixels, and nothing else: 33 bytes.
    const ihdr = Buffer.alloc(25);
    ihdr.writeUInt32BE(13, 0);
    ihdr.write('IHDR', 4, 'latin1');
    ihdr.writeUInt32BE(100_000, 8);
    ihdr.writeUInt32BE(100_000, 12);
    ihdr.set([8, 6, 0, 0, 0], 16);
    const bomb = await file('bomb.png', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr]));
    const format = await formats.identify(bomb, undefined, limits);
    await rejectsWithCode(format.inspect(bomb, limits), 'resource_limit', /100000×100000 pixels/);
  });

  void test('an image whose pixels are junk fails its page with invalid_image; a .png that is text is invalid_image; a JPEG named .png is read as JPEG', async () => {
    const whole = makeImage(LINES, 'image/png');
    // Its header (signature and IHDR) and then junk where the pixels should be.
    const { pages, failures } = await read(await file('broken.png', Buffer.concat([whole.subarray(0, 33), Buffer.alloc(200, 0x5a)])));
    assert.deepEqual(pages, []);
    assert.deepEqual(failures.map((f) => [f.page, f.code]), [[1, 'invalid_image']]);
    await rejectsWithCode(formats.identify(await file('note.png', Buffer.from('not a picture')), undefined, limits), 'invalid_image', /named \.png/);
    const jpeg = await formats.identify(await file('photo.png', makeImage(LINES, 'image/jpeg')), undefined, limits);
    assert.equal(jpeg.mediaType, 'image/jpeg');
  });

  void test('real files: CPython\'s 16×16 test TIFF and WebP decode (a logo: no words, no failure)', async () => {
    for (const [name, type] of [['cpython-python.tiff', 'image/tiff'], ['cpython-python.webp', 'image/webp']] as const) {
      const { pages, failures, mediaType } = await read(join(FIXTURES, name));
      assert.equal(mediaType, type);
      assert.deepEqual(failures, [], name);
      assert.deepEqual(pages.map((p) => [p.page, p.source]), [[1, 'ocr']], name);
    }
  });
});

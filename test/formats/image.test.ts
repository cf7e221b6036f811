// Images as documents: PNG, JPEG, WebP (one page) and TIFF (one page per frame), each page read
// by OCR. `ocr: "never"` says `needs_ocr` instead; a picture too large is refused before it is
// decoded; a broken one fails its page with `invalid_image`. Real files: CPython's test images.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { truncation } from '../../src/formats/image/image-truncation.ts';
import { checkTiffStructure } from '../../src/formats/image/tiff-structure.ts';
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

/** `tiff`'s 16- and 32-bit fields, in its byte order (makeTiff writes big-endian: UTIF.encode's "MM"). */
function fields(tiff: Buffer): { u16: (at: number) => number; u32: (at: number) => number; set16: (at: number, v: number) => void; set32: (at: number, v: number) => void } {
  const big = tiff[0] === 0x4d;
  return {
    u16: (at) => (big ? tiff.readUInt16BE(at) : tiff.readUInt16LE(at)),
    u32: (at) => (big ? tiff.readUInt32BE(at) : tiff.readUInt32LE(at)),
    set16: (at, v) => void (big ? tiff.writeUInt16BE(v, at) : tiff.writeUInt16LE(v, at)),
    set32: (at, v) => void (big ? tiff.writeUInt32BE(v, at) : tiff.writeUInt32LE(v, at)),
  };
}

/** Where each of `tiff`'s directories (IFDs) starts, along its frame list. */
function ifdOffsets(tiff: Buffer): number[] {
  const { u16, u32 } = fields(tiff);
  const offsets: number[] = [];
  for (let at = u32(4); at !== 0; at = u32(at + 2 + u16(at) * 12)) offsets.push(at);
  return offsets;
}

/** A copy of `tiff` whose IFD at `ifd` has its next-IFD offset set to `next`. */
function pointing(tiff: Buffer, ifd: number, next: number): Buffer {
  const out = Buffer.from(tiff);
  const { u16, set32 } = fields(out);
  set32(ifd + 2 + u16(ifd) * 12, next);
  return out;
}

/** A copy of `tiff` whose IFD at `ifd` has its entry for `tag` rewritten as `to` (tag, type, count, value). */
function retag(tiff: Buffer, ifd: number, tag: number, to: { tag: number; type: number; count: number; value: number }): Buffer {
  const out = Buffer.from(tiff);
  const { u16, set16, set32 } = fields(out);
  for (let i = 0, entry = ifd + 2; i < u16(ifd); i++, entry += 12) {
    if (u16(entry) !== tag) continue;
    set16(entry, to.tag);
    set16(entry + 2, to.type);
    set32(entry + 4, to.count);
    set32(entry + 8, to.value);
    return out;
  }
  throw new Error(`no tag ${tag} at ${ifd}`);
}

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

  void test('a TIFF whose directories loop or declare more than the file holds is refused at once with invalid_image', async () => {
    const tiff = makeTiff(FRAMES);
    const [first = 0, second = 0] = ifdOffsets(tiff);
    const started = performance.now();
    for (const [name, bytes, message] of [
      ['self.tif', pointing(tiff, second, second), /frame list loops: frame 2 points back to frame 2/],
      ['back.tif', pointing(tiff, second, first), /frame list loops: frame 2 points back to frame 1/],
      // SamplesPerPixel made a SubIFDs tag pointing to its own directory.
      ['sub.tif', retag(tiff, first, 277, { tag: 330, type: 4, count: 1, value: first }), /sub-images loop/],
      // StripByteCounts claiming a billion values, in a file of a few KB.
      ['count.tif', retag(tiff, first, 279, { tag: 279, type: 4, count: 2 ** 30, value: 8 }), /more values than the file could hold/],
    ] as const) {
      const format = await formats.identify(await file(name, bytes), undefined, limits);
      await rejectsWithCode(format.inspect(join(dir, name), limits), 'invalid_image', message);
    }
    // utif2 followed each of them for tens of seconds and hundreds of MB before the heap cap stopped it.
    assert.ok(performance.now() - started < 10_000, `${Math.round(performance.now() - started)} ms`);
    assert.doesNotThrow(() => checkTiffStructure(Buffer.from(tiff)), 'a whole TIFF');
    assert.doesNotThrow(() => checkTiffStructure(Buffer.from(tiff.subarray(0, second + 6))), 'a TIFF cut short is left to the truncation check');
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

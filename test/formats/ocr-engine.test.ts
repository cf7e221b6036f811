// The OCR engine choice: `auto` takes the tesseract program when it answers and tesseract.js
// when it does not (REAM_TESSERACT=/nonexistent); the program's failures are coded errors; a
// cancelled page kills its tesseract process, also when the pool ends the thread that ran it.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { ImageOcrInput } from '../../src/formats/image/image-tasks.ts';
import { recognizePage, resolveOcrEngine } from '../../src/formats/ocr/ocr-engine.ts';
import { DEFAULT_OCR } from '../../src/formats/ocr/ocr-options.ts';
import { recognizeNative, tessdataDir } from '../../src/formats/ocr/native-tesseract.ts';
import { parseTsv } from '../../src/formats/ocr/tsv-text.ts';
import { createFormats } from '../../src/formats/registry.ts';
import type { Extraction, OcrOptions, ReadLimits } from '../../src/formats/types.ts';
import { createThreadPool } from '../../src/runtime/thread-pool.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { hasCommand, requireOrSkip } from '../support/env.ts';
import { makeImage } from '../support/make-image.ts';

const limits: ReadLimits = { maxBytes: 50 * 2 ** 20, maxPages: 1_000 };
const LINES = ['Invoice number 4711 from Example Trading', 'Total amount due within thirty days'];

/** Runs `body` with REAM_TESSERACT (and what else `env` says) set, then puts them back. */
async function withEnv<T>(env: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    return await body();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** Whether process `pid` is gone (or a zombie: killed, waiting to be reaped). */
async function gone(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function waitFor(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

void describe('OCR engines', () => {
  let dir: string;
  let png: Buffer;
  let image: string;
  /** A stand-in for tesseract that notes its pid and then sleeps: a page that never ends. */
  let sleeper: string;
  const needsTesseract = (t: TestContext): boolean => requireOrSkip(t, hasCommand('tesseract'), 'the tesseract CLI (apt-get install tesseract-ocr)');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ream-ocr-engine-'));
    png = makeImage(LINES, 'image/png');
    image = join(dir, 'page.png');
    await writeFile(image, png);
    sleeper = join(dir, 'sleeping-tesseract');
    await writeFile(sleeper, `#!/bin/sh\ncase "$1" in --version) echo "tesseract 5"; exit 0;; esac\necho $$ > "${dir}/pid"\nexec sleep 300\n`);
    await chmod(sleeper, 0o755);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  void test('TSV rows become lines, paragraphs and the mean word confidence', () => {
    const header = 'level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext';
    const rows = ['1\t1\t0\t0\t0\t0\t0\t0\t9\t9\t-1\t', '5\t1\t1\t1\t1\t1\t0\t0\t9\t9\t90\tHello', '5\t1\t1\t1\t1\t2\t0\t0\t9\t9\t80\tworld',
      '5\t1\t1\t1\t2\t1\t0\t0\t9\t9\t70\tagain', '5\t1\t2\t1\t1\t1\t0\t0\t9\t9\t60\tBlock', '5\t1\t2\t1\t1\t2\t0\t0\t9\t9\t95\t '];
    assert.deepEqual(parseTsv([header, ...rows].join('\n')), { text: 'Hello world\nagain\n\nBlock\n', confidence: 75 });
    assert.deepEqual(parseTsv(header), { text: '', confidence: 0 });
  });

  void test('auto takes the tesseract program when it answers, tesseract.js when it does not', async (t) => {
    if (!needsTesseract(t)) return;
    assert.equal(await resolveOcrEngine('auto'), 'tesseract');
    assert.equal(await resolveOcrEngine('tesseractjs'), 'tesseractjs');
    await withEnv({ REAM_TESSERACT: '/nonexistent' }, async () => {
      assert.equal(await resolveOcrEngine('auto'), 'tesseractjs');
      assert.equal(await resolveOcrEngine('tesseract'), 'tesseract', 'asked for by name, the program is not swapped');
    });
    const read = await recognizePage(png, ['eng'], 300, 'tesseract');
    assert.equal(read.engine, 'tesseract');
    assert.match(read.text, /Example Trading/);
    assert.ok(read.confidence > 70, `confidence ${read.confidence}`);
  });

  void test('with REAM_TESSERACT=/nonexistent a job\'s pages fall back to tesseract.js; asking for tesseract fails the page, coded', async () => {
    await withEnv({ REAM_TESSERACT: '/nonexistent' }, async () => {
      const pool = createThreadPool({ threads: 1 });
      try {
        const formats = createFormats(pool);
        const read = async (ocr: Partial<OcrOptions>): Promise<Extraction> => {
          const format = await formats.identify(image, undefined, limits);
          return format.extract(image, { from: 0, to: 1 }, undefined, { ocr: { ...DEFAULT_OCR, ...ocr } });
        };
        const auto = await read({ engine: 'auto' });
        assert.deepEqual(auto.failures, []);
        assert.equal(auto.pages[0]?.ocrEngine, 'tesseractjs');
        assert.match(auto.pages[0]?.text ?? '', /Example Trading/);
        const native = await read({ engine: 'tesseract' });
        assert.deepEqual(native.pages.map((p) => p.page), []);
        assert.deepEqual(native.failures.map((f) => [f.page, f.code]), [[1, 'ocr_failed']]);
        assert.match(native.failures[0]?.message ?? '', /cannot run tesseract \(\/nonexistent\)/);
      } finally {
        await pool.destroy();
      }
    });
  });

  void test('a bad language is a coded error: unknown at once, unreadable from the program', async (t) => {
    await rejectsWithCode(recognizeNative(png, ['xyz'], 300), 'validation_failed', /@tesseract\.js-data\/xyz/);
    if (!needsTesseract(t)) return;
    await withEnv({ REAM_TESSDATA_CACHE: join(dir, 'tessdata') }, async () => {
      const models = await tessdataDir(['eng']);
      assert.ok(existsSync(join(models, 'eng.traineddata')), 'the model is un-gzipped into the cache');
      await writeFile(join(models, 'eng.traineddata'), 'not a model');
      await rejectsWithCode(recognizeNative(png, ['eng'], 300), 'ocr_failed', /tesseract could not read the page/);
    });
  });

  void test('cancelling a page kills its tesseract process', async () => {
    await rm(join(dir, 'pid'), { force: true });
    await withEnv({ REAM_TESSERACT: sleeper }, async () => {
      const stop = new AbortController();
      const page = recognizeNative(png, ['eng'], 300, { signal: stop.signal });
      assert.ok(await waitFor(() => existsSync(join(dir, 'pid'))), 'the program started');
      const pid = Number(await readFile(join(dir, 'pid'), 'utf8'));
      stop.abort();
      await rejectsWithCode(page, 'cancelled');
      assert.ok(await waitFor(() => gone(pid)), `process ${pid} was killed`);
    });
  });

  void test('cancelling a job\'s page in the pool ends the thread, and its tesseract process with it', async () => {
    await rm(join(dir, 'pid'), { force: true });
    await withEnv({ REAM_TESSERACT: sleeper }, async () => {
      const pool = createThreadPool({ threads: 1 });
      try {
        const stop = new AbortController();
        const input: ImageOcrInput = { path: image, mediaType: 'image/png', page: 1, languages: ['eng'], dpi: 300, engine: 'tesseract' };
        const page = pool.run('image.ocr', input, { signal: stop.signal, extraMemoryBytes: 0 });
        assert.ok(await waitFor(() => existsSync(join(dir, 'pid'))), 'the program started');
        const pid = Number(await readFile(join(dir, 'pid'), 'utf8'));
        stop.abort();
        await rejectsWithCode(page, 'cancelled');
        assert.ok(await waitFor(() => gone(pid)), `process ${pid} was killed with its thread`);
      } finally {
        await pool.destroy();
      }
    });
  });
});

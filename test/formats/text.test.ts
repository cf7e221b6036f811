import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { createFormats, type Formats } from '../../src/formats/registry.ts';
import type { ReadLimits, TaskRunner } from '../../src/formats/types.ts';

const limits: ReadLimits = { maxBytes: 2 ** 20, maxPages: 10 };

/** Text never needs a thread; a runner that refuses proves it. */
const noThreads: TaskRunner = {
  run: () => Promise.reject(new Error('text formats must not use the thread pool')),
};

async function code(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ReamError, `expected a ReamError, got ${String(error)}`);
  return error.code;
}

void describe('text formats', () => {
  let dir: string;
  let formats: Formats;
  const file = async (name: string, content: string | Uint8Array): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ream-text-'));
    formats = createFormats(noThreads);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void test('one page, or one per form feed; a final form feed closes the last page; CRLF becomes LF', async () => {
    const path = await file('notes.txt', 'page one\r\nline two\fpage two\fpage three\f');
    const format = await formats.identify(path, 'notes.txt', limits);
    assert.equal(format.mediaType, 'text/plain');
    assert.deepEqual(await format.inspect(path, limits), { mediaType: 'text/plain', pageCount: 3, metadata: {} });
    assert.deepEqual(await format.extract(path, { from: 1, to: 3 }), {
      pages: [{ page: 2, text: 'page two' }, { page: 3, text: 'page three' }],
      failures: [],
    });
    const single = await file('single.txt', 'no form feed here\n');
    assert.equal((await format.inspect(single, limits)).pageCount, 1);
  });

  void test('Markdown by extension, its first heading as title; extensionless UTF-8 is plain text', async () => {
    const md = await file('guide.md', '\uFEFFIntro\n\n## Getting started ##\n\ntext\n# Later\n');
    const format = await formats.identify(md, 'guide.md', limits);
    assert.equal(format.mediaType, 'text/markdown');
    assert.deepEqual((await format.inspect(md, limits)).metadata, { title: 'Getting started' });
    assert.equal((await format.extract(md, { from: 0, to: 1 })).pages[0]?.text.startsWith('Intro'), true, 'BOM dropped');
    const bare = await file('README', 'héllo, 世界');
    assert.equal((await formats.identify(bare, 'README', limits)).mediaType, 'text/plain');
  });

  void test('UTF-16 with its byte order mark (Notepad\'s "Unicode"), little or big endian, is read; a broken one is invalid_text', async () => {
    const text = 'Zoë, Łukasz\r\nsecond line\fpage 2 – 世界';
    const le = await file('le.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const be = await file('be.txt', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]));
    for (const path of [le, be]) {
      const format = await formats.identify(path, undefined, limits);
      assert.equal((await format.inspect(path, limits)).pageCount, 2);
      assert.deepEqual((await format.extract(path, { from: 0, to: 2 })).pages.map((page) => page.text), ['Zoë, Łukasz\nsecond line', 'page 2 – 世界']);
    }
    const broken = await file('broken.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('ok', 'utf16le'), Buffer.from([0x00, 0xd8, 0x41, 0x00])]));
    assert.equal(await code((await formats.identify(broken, undefined, limits)).inspect(broken, limits)), 'invalid_text', 'a lone surrogate');
    // A UTF-16 CSV is not read as CSV, and says why instead of calling it binary.
    const csv = await file('export.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a\tb\r\n1\t2\r\n', 'utf16le')]));
    await assert.rejects(formats.identify(csv, undefined, limits), (error: ReamError) => error.code === 'invalid_sheet' && /is UTF-16 text .*save it as UTF-8/.test(error.message));
  });

  void test('invalid UTF-8 and binary are invalid_text; limits apply', async () => {
    const format = await formats.identify(await file('a.txt', 'x'), 'a.txt', limits);
    assert.equal(await code(format.inspect(await file('latin1.txt', Buffer.from('caf\xe9', 'latin1')), limits)), 'invalid_text');
    assert.equal(await code(format.inspect(await file('nul.txt', Buffer.from('a\0b')), limits)), 'invalid_text');
    assert.equal(await code(format.inspect(await file('many.txt', 'p\f'.repeat(11)), limits)), 'too_many_pages');
    assert.equal(await code(formats.identify(await file('big.txt', 'x'.repeat(100)), 'big.txt', { maxBytes: 99, maxPages: 10 })), 'file_too_large');
    assert.equal(await code(formats.identify(await file('empty.md', ''), 'empty.md', limits)), 'empty_file');
    assert.equal(await code(format.inspect(join(dir, 'missing.txt'), limits)), 'io_error');
  });
});

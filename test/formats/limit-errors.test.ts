// A document refused for a limit says which limit, and what raises it: the size limit (1 GiB)
// and the page limit (10,000) are separate options, and a text within the one can be over the
// other (ream cuts a text into pages by size), so a bare "the limit is 10000" leaves its reader
// guessing which limit a 900 MB log met.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { createTextFormat } from '../../src/formats/text/text-format.ts';
import { PAGE_CHARS } from '../../src/formats/text/text-pages.ts';

const format = createTextFormat('text/plain', ['.txt']);
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-limit-errors-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function refusal(run: Promise<unknown>): Promise<ReamError> {
  const error = await run.then(() => assert.fail('the document was taken'), (caught: unknown) => caught);
  assert.ok(error instanceof ReamError, String(error));
  return error;
}

test('a dense text within the size limit but over the page limit is too_many_pages, naming maxPages, --max-pages and the pages cut by size', async () => {
  const path = join(dir, 'dense.txt');
  const line = `${'x'.repeat(99)}\n`;
  // Three pages cut by size, and a bit.
  await writeFile(path, line.repeat(Math.ceil((3.5 * PAGE_CHARS) / line.length)));
  const error = await refusal(format.inspect(path, { maxBytes: 2 ** 30, maxPages: 2 }));
  assert.equal(error.code, 'too_many_pages');
  assert.match(error.message, /the document has 4 pages/);
  assert.match(error.message, /the limit is 2 pages/);
  assert.match(error.message, /maxPages/);
  assert.match(error.message, /--max-pages/);
  assert.match(error.message, /by size/);
  assert.equal(error.details?.limit, 'maxPages');
});

test('a text over the page limit at its form feeds is not said to be cut by size', async () => {
  const path = join(dir, 'feeds.txt');
  await writeFile(path, 'a\fb\fc');
  const error = await refusal(format.inspect(path, { maxBytes: 2 ** 30, maxPages: 2 }));
  assert.equal(error.code, 'too_many_pages');
  assert.doesNotMatch(error.message, /by size/);
  assert.match(error.message, /--max-pages/);
});

test('a file over the size limit is file_too_large, naming maxBytes and --max-size', async () => {
  const path = join(dir, 'big.txt');
  await writeFile(path, 'y'.repeat(2_000));
  const error = await refusal(format.inspect(path, { maxBytes: 1_000, maxPages: 10_000 }));
  assert.equal(error.code, 'file_too_large');
  assert.match(error.message, /the file has 2,000 bytes; the limit is 1,000 bytes/);
  assert.match(error.message, /maxBytes/);
  assert.match(error.message, /--max-size/);
  assert.equal(error.details?.limit, 'maxBytes');
});

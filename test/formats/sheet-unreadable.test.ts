// A workbook with one sheet that cannot be read (its part is missing from the archive, or its
// relationship points outside it) is read as its other sheets: the bad sheet is one failed page
// (invalid_sheet, naming it), and the document ends partially_succeeded, not failed.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { brokenBook } from './sheet-files.ts';

test('one unreadable sheet of several is a failed page; the readable sheets are read', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-sheet-unreadable-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  try {
    const path = join(dir, 'missing2.xlsx');
    await writeFile(path, await brokenBook());
    const job = await ream.submit({ files: [path] });
    assert.equal((await ream.wait(job.id)).status, 'partially_succeeded');
    const [doc] = await Array.fromAsync(ream.results(job.id));
    assert.equal(doc?.status, 'partially_succeeded', JSON.stringify(doc?.error));
    assert.deepEqual(doc.metadata?.sheets, ['First', 'Second', 'Third']);
    assert.deepEqual(doc.pages.map((page) => [page.page, page.sheet, page.text]), [[1, 'First', 'name\tnote\nAcme\tpaid']]);
    assert.deepEqual(doc.failedPages.map((failure) => [failure.page, failure.code]), [[2, 'invalid_sheet'], [3, 'invalid_sheet']]);
    assert.match(doc.failedPages[0]?.message ?? '', /sheet "Second" cannot be read: .*has no part in the archive/);
    assert.match(doc.failedPages[1]?.message ?? '', /sheet "Third" cannot be read/);

    // Read as rows, the table is one sheet: the first is read, and the unreadable one asked for by name fails.
    const rows = await ream.submit({ pipeline: 'rows', files: [path] });
    assert.equal((await ream.wait(rows.id)).status, 'succeeded');
    const one = await ream.submit({ pipeline: 'rows', files: [path], options: { sheet: 'Second' } });
    assert.equal((await ream.wait(one.id)).status, 'failed');
  } finally {
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
});

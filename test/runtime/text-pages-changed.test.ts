// A text job whose pages were counted by an older ream's rule (stored in its document's
// inspection) is read by this one only where both rules cut alike: a retry of such a job in a
// data dir fails the document with pages_changed rather than read its pages as now cut.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';

/** The pagination an older ream stored for a text cut by size, before a page of short lines had to hold 25,000 characters. */
const LINES_RULE = 'split at its form feeds, and by size: a page ends after its 3,000th line, or at the first line end past 100,000 characters (a longer line is cut at 200,000)';

test('a retried text job counted by the older line rule fails its document with pages_changed (embedded)', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-pages-changed-'));
  try {
    const dataDir = join(dir, 'data');
    const file = join(dir, 'short-lines.txt');
    // 7,000 one-character lines: one page now, three by the line rule.
    await writeFile(file, 'x\n'.repeat(7_000));
    let ream = await createReam({ dataDir, threads: 1 });
    const job = await ream.submit({ files: [file] });
    assert.equal((await ream.wait(job.id)).status, 'succeeded');
    await ream.close();

    // What that ream left of a job whose chunk failed: three pages counted by its rule, no checkpoint.
    const database = new Database(join(dataDir, 'ream.db'));
    database.prepare('update job_documents set status = ?, pages_total = 3, chunks_total = 1, info = ? where job_id = ?')
      .run('failed', JSON.stringify({ mediaType: 'text/plain', metadata: { pagination: LINES_RULE } }), job.id);
    database.prepare('delete from chunk_results where job_id = ?').run(job.id);
    database.prepare('update jobs set status = ? where id = ?').run('failed', job.id);
    database.close();

    ream = await createReam({ dataDir, threads: 1 });
    try {
      await ream.retry(job.id);
      assert.equal((await ream.wait(job.id)).status, 'failed');
      const [doc] = await ream.jobDocuments(job.id);
      assert.equal(doc?.error?.code, 'pages_changed', JSON.stringify(doc));
      assert.match(doc.error.message, /a page after its 3,000th line.*submit the document in a new job/);
    } finally {
      await ream.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

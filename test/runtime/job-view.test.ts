// A job's options as every view shows them (API, webhooks, WebSocket): a PDF password is kept
// with the job for the workers that open the file, and never shown back.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';

test('a job view redacts the PDF password but keeps the job\'s other options', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-job-view-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  try {
    const file = join(dir, 'a.txt');
    await writeFile(file, 'hello');
    const job = await ream.submit({ options: { pdfPassword: 'hunter2-secret', chunkPages: 12 }, files: [file] });
    await ream.wait(job.id);
    const stored = await ream.getJob(job.id);
    assert.equal(stored?.options.pdfPassword, 'hunter2-secret', 'kept for the workers');
    const view = await ream.jobView(stored ?? job);
    assert.deepEqual([view.options.pdfPassword, view.options.chunkPages], ['[redacted]', 12]);
    assert.ok(!JSON.stringify(view).includes('hunter2'), 'nowhere in the view');
  } finally {
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
});

// The order in which a worker claims a job's tasks: a document's chunks come before the documents
// added after it, so that one document is read through before the next one is begun.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ReamEvent } from '../../src/events/types.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import { numberedPages, writePdf } from '../support/make-pdf.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-claim-order-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('one task at a time: each document\'s chunks are read before the next document is inspected', async () => {
  const names = ['a.pdf', 'b.pdf', 'c.pdf'];
  for (const [i, name] of names.entries()) await writePdf(join(dir, name), { pages: numberedPages(String.fromCharCode(65 + i), 3) });
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, concurrency: 1 });
  try {
    const job = await ream.createJob({ options: { chunkPages: 1 } });
    const events: ReamEvent[] = [];
    const off = ream.subscribe({ jobId: job.id }, (event) => events.push(event));
    // Added before the first is inspected: every document is queued when the first one's chunks are.
    const documents: string[] = [];
    for (const name of names) documents.push((await ream.addFile(job.id, { path: join(dir, name), source: name })).documentId);
    assert.equal((await ream.wait(job.id)).status, 'succeeded');
    off();
    const steps = events
      .filter((e) => e.type === 'document.started' || e.type === 'chunk.completed')
      .map((e) => `${documents.indexOf(e.documentId ?? '')}:${e.type === 'document.started' ? 'started' : `chunk ${e.chunk?.index}`}`);
    assert.deepEqual(steps, [0, 1, 2].flatMap((d) => [`${d}:started`, `${d}:chunk 0`, `${d}:chunk 1`, `${d}:chunk 2`]));
  } finally {
    await ream.close();
  }
});

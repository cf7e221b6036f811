// The order in which a worker claims a job's tasks: a document's chunks come before the documents
// added after it, so that one document is read through before the next one is begun.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ReamEvent } from '../../src/events/types.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import type { ReamOptions } from '../../src/runtime/ream.ts';
import { deleteRedisPrefix, freshDatabase } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { numberedPages, writePdf } from '../support/make-pdf.ts';
import { startS3Server } from '../support/s3-server.ts';
import { postgresUnavailable, redisUnavailable, TEST_REDIS_URL, uniqueName } from '../support/services.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-claim-order-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Three documents of three 1-page chunks, added before the first is inspected, read one task at a time. */
async function claimSteps(options: ReamOptions): Promise<string[]> {
  const names = ['a.pdf', 'b.pdf', 'c.pdf'];
  for (const [i, name] of names.entries()) await writePdf(join(dir, name), { pages: numberedPages(String.fromCharCode(65 + i), 3) });
  const ream = await createReam({ threads: 1, concurrency: 1, ...options });
  try {
    const job = await ream.createJob({ options: { chunkPages: 1 } });
    const events: ReamEvent[] = [];
    const off = ream.subscribe({ jobId: job.id }, (event) => events.push(event));
    // Added before the first is inspected: every document is queued when the first one's chunks are.
    const documents: string[] = [];
    for (const name of names) documents.push((await ream.addFile(job.id, { path: join(dir, name), source: name })).documentId);
    assert.equal((await ream.wait(job.id)).status, 'succeeded');
    off();
    return events
      .filter((e) => e.type === 'document.started' || e.type === 'chunk.completed')
      .map((e) => `${documents.indexOf(e.documentId ?? '')}:${e.type === 'document.started' ? 'started' : `chunk ${e.chunk?.index}`}`);
  } finally {
    await ream.close();
  }
}

const inOrder = [0, 1, 2].flatMap((d) => [`${d}:started`, `${d}:chunk 0`, `${d}:chunk 1`, `${d}:chunk 2`]);

test('one task at a time: each document\'s chunks are read before the next document is inspected', async () => {
  assert.deepEqual(await claimSteps({ dataDir: join(dir, 'data') }), inOrder);
});

const servicesMissing = (await postgresUnavailable()) ?? (await redisUnavailable());

test('distributed: the same order, chunks and inspections being in separate BullMQ queues', { timeout: 240_000 }, async (t) => {
  if (!requireOrSkip(t, servicesMissing === undefined, servicesMissing ?? '')) return;
  const [s3, database] = [await startS3Server(), await freshDatabase({ migrated: true })];
  const prefix = uniqueName('ream_claim_order');
  try {
    const s3Settings = { bucket: s3.bucket, endpoint: s3.endpoint, credentials: s3.credentials, forcePathStyle: true };
    assert.deepEqual(await claimSteps({ dataDir: join(dir, 'distributed'), distributed: { redisUrl: TEST_REDIS_URL, databaseUrl: database.url, prefix, s3: s3Settings } }), inOrder);
  } finally {
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
    await database.drop();
    await s3.close();
  }
});

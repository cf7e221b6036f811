// Two deletions of one job at once (a DELETE repeated while the first runs: a job under deletion
// takes DELETE again, to finish a deletion cut short) each delete its rows a batch at a time; the
// one that gets to the job row first must not take the other's batches still to come with it:
// their pages would go uncounted from the tenant's pages of the day (pagesPerDay). Both modes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { Ream } from '../../src/runtime/create-ream.ts';
import { engineOf } from '../../src/runtime/internals.ts';
import { MODES, modeAvailable, withModeReam } from '../support/modes.ts';

/** Documents of the job, 2 pages each: several batches of the deletion (JOB_DELETION_BATCH). */
const DOCUMENTS = 3_000;

for (const mode of MODES) {
  void test(`${mode}: two deletions of a job at once count each of its pages once in its tenant's usage, and the job goes`, { timeout: 120_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withModeReam(mode, {}, async ({ ream }) => {
      // The second begins at once, or a moment into the first's batches.
      for (const gapMs of [0, 10, 30]) await deleteTwice(ream, gapMs);
    });
  });
}

async function deleteTwice(ream: Ream, gapMs: number): Promise<void> {
  const engine = engineOf(ream);
  const { store } = engine.ports;
  const tenantId = 'default';
  const before = (await store.tenantUsage(tenantId, 0)).pagesSince;
  const job = await store.createJob({ id: randomUUID(), tenantId, key: null, pipeline: 'extract', options: {}, priority: 0 }, Date.now());
  const ids: string[] = [];
  for (let i = 0; i < DOCUMENTS; i += 500) {
    const docs = await Promise.all(Array.from({ length: 500 }, (_, k) => store.putDocument(
      { id: randomUUID(), tenantId, sha256: randomUUID().replace(/-/g, '').padEnd(64, '0'), name: `d${i + k}.pdf`, size: 10, mediaType: 'application/pdf' }, Date.now())));
    ids.push(...docs.map((doc) => doc.id));
  }
  await store.addJobDocuments(ids.map((documentId, ordinal) => ({ jobId: job.id, documentId, ordinal, source: `d${ordinal}.pdf` })));
  for (let i = 0; i < ids.length; i += 500) {
    await Promise.all(ids.slice(i, i + 500).map((id) => store.updateJobDocument(job.id, id, { pagesTotal: 2, status: 'succeeded', finishedAt: Date.now() })));
  }
  await store.updateJob(job.id, { status: 'succeeded', finishedAt: Date.now() }, {});
  assert.equal((await store.tenantUsage(tenantId, 0)).pagesSince, before + 2 * DOCUMENTS);
  const second = new Promise((resolve) => setTimeout(resolve, gapMs)).then(() => store.deleteJob(job.id));
  const outcomes = await Promise.allSettled([store.deleteJob(job.id), second]);
  assert.deepEqual(outcomes.filter((o) => o.status === 'rejected'), [], 'neither failed');
  assert.equal(await store.getJob(job.id, { deleting: true }), undefined, 'the job is gone');
  assert.equal((await store.tenantUsage(tenantId, 0)).pagesSince, before + 2 * DOCUMENTS, `every page still counted, once (the second ${gapMs} ms after the first)`);
}

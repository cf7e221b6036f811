// Deleting a job frees its idempotency key before anything else (a repeat sent while the job is
// cancelled makes a new job, not the one going), and reads its report blobs only once it is
// marked: a merge that records a report just before the mark is never left behind. No worker
// runs (`work: false`): the test plays the merge at the moment it would race the deletion.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { engineOf } from '../../src/runtime/internals.ts';

let dir: string;
let ream: Ream;
let file: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-deletion-order-'));
  file = join(dir, 'a.txt');
  await writeFile(file, 'some text\n');
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
});
after(async () => {
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

test('a repeat of the key while the deleted job is being cancelled makes a new job, not the one going', async () => {
  const { store, queue } = engineOf(ream).ports;
  const key = 'deleted-while-repeated';
  const first = await ream.createJob({ key });
  await ream.addFile(first.id, { path: file }); // running: deleting it cancels it first
  const cancelJob = queue.cancelJob.bind(queue);
  let repeat: string | undefined;
  queue.cancelJob = async (jobId) => {
    repeat = (await ream.createJob({ key })).id; // sent while the deletion cancels the job
    return cancelJob(jobId);
  };
  try {
    await ream.deleteJob(first.id);
  } finally {
    queue.cancelJob = cancelJob;
  }
  assert.notEqual(repeat, undefined, 'the job was cancelled by its deletion');
  assert.notEqual(repeat, first.id);
  assert.equal(await ream.getJob(first.id), undefined);
  assert.equal((await store.findJobByKey(first.tenantId, key))?.id, repeat);
  assert.equal((await ream.createJob({ key })).id, repeat, 'the new job answers the key from now on');
});

test('a report a merge records right before the deletion marks the job is removed with it', async () => {
  const engine = engineOf(ream);
  const { store, blobs } = engine.ports;
  const job = await ream.createJob({});
  const early = await blobs.put(Readable.from([Buffer.from('a report recorded before the deletion began')]));
  await store.putJobArtifacts(job.id, [{ sha256: early.sha256, size: early.size }]);
  const late = await blobs.put(Readable.from([Buffer.from('a report a merge records as the deletion runs')]));
  // The merge of document-tasks.ts, done at the one moment it can race: once the deletion has read
  // the job's reports. It records the report, then cleans up after itself if the job is gone.
  const jobArtifactBlobs = store.jobArtifactBlobs.bind(store);
  let merged = false;
  store.jobArtifactBlobs = async (jobId) => {
    const listed = await jobArtifactBlobs(jobId);
    if (jobId === job.id && !merged) {
      merged = true;
      await store.putJobArtifacts(job.id, [{ sha256: late.sha256, size: late.size }]);
      if (!(await store.getJob(job.id))) await engine.forgetDeletedJob(job.tenantId, job.id, [late.sha256]);
    }
    return listed;
  };
  try {
    await ream.deleteJob(job.id);
  } finally {
    store.jobArtifactBlobs = jobArtifactBlobs;
  }
  assert.ok(merged);
  assert.equal(await blobs.stat(early.sha256), undefined, 'the report recorded before is removed');
  assert.equal(await blobs.stat(late.sha256), undefined, 'the report recorded as it ran is removed too');
});

test('a deletion that fails before the job is cancelled gives the job its key back: a repeat still answers it', async () => {
  const { store } = engineOf(ream).ports;
  const key = 'deletion-failed';
  const first = await ream.createJob({ key });
  await ream.addFile(first.id, { path: file });
  const updateJob = store.updateJob.bind(store);
  // The store refuses the cancel's write (a locked database, a dropped connection).
  store.updateJob = (async (id, patch, condition) => {
    if (id === first.id && patch.status === 'cancelled') throw new ReamError('unavailable', 'the store does not answer');
    return updateJob(id, patch, condition);
  }) as typeof store.updateJob;
  try {
    await assert.rejects(ream.deleteJob(first.id), (error: unknown) => error instanceof ReamError && error.code === 'unavailable');
  } finally {
    store.updateJob = updateJob;
  }
  const kept = await ream.getJob(first.id);
  assert.notEqual(kept?.status, 'cancelled');
  assert.equal(kept?.key, key, 'the job keeps its key');
  assert.equal((await ream.createJob({ key })).id, first.id, 'a repeat answers the job, not a second one');
  // Deleting it again works, and frees the key.
  await ream.deleteJob(first.id);
  assert.notEqual((await ream.createJob({ key })).id, first.id);
});

// Deleting a job frees its idempotency key before anything else: a repeat sent while the job is
// cancelled makes a new job, not the one going. No worker runs (`work: false`).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
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

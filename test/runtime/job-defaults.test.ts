import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { engineOf } from '../../src/runtime/internals.ts';
import { PRIORITIES, loadJobView } from '../../src/runtime/job-view.ts';

let dir: string;
let ream: Ream;
let file: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-job-defaults-'));
  file = join(dir, 'a.txt');
  await writeFile(file, 'one page\n');
  // Submit-only: no worker claims, so the test claims from the queue itself, in the queue's order.
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false, webhooks: { allowPrivate: true } });
});
after(async () => {
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

void test('a job given no priority is "normal": its view says so, and it is claimed after a high job and before a low one', async () => {
  const low = await ream.createJob({ priority: PRIORITIES.low });
  const unranked = await ream.createJob({});
  const high = await ream.createJob({ priority: PRIORITIES.high });
  assert.equal(unranked.priority, PRIORITIES.normal);
  assert.equal((await loadJobView(engineOf(ream), unranked)).priority, 'normal');
  assert.equal((await loadJobView(engineOf(ream), low)).priority, 'low');
  // Enqueued low first: the queue's order must come from the priorities alone.
  for (const job of [low, unranked, high]) await ream.addFile(job.id, { path: file });
  const { queue } = engineOf(ream).ports;
  const claimed: string[] = [];
  for (let i = 0; i < 3; i++) {
    const task = await queue.claim({ workerId: 'test', leaseMs: 60_000 });
    assert.ok(task, `claim ${i + 1}`);
    claimed.push(task.jobId);
    await queue.release(task);
    await queue.cancelJob(task.jobId); // out of the way of the next claim
  }
  assert.deepEqual(claimed, [high.id, unranked.id, low.id]);
});

void test('a job\'s webhook is engine state: neither its options nor its view show it or its secret', async () => {
  const secret = 'never-shown-7f3a';
  const job = await ream.createJob({ options: { chunkPages: 2 }, webhook: { url: 'http://127.0.0.1:9/hook', secret } });
  assert.deepEqual(job.options, { chunkPages: 2 });
  assert.deepEqual(job.webhook, { url: 'http://127.0.0.1:9/hook', secret });
  const view = JSON.stringify(await loadJobView(engineOf(ream), job));
  assert.equal(view.includes(secret), false);
  assert.equal(view.includes('127.0.0.1:9'), false);
});

void test('an option named "_ream" is still refused: older processes read it as engine state', async () => {
  await assert.rejects(ream.createJob({ options: { _ream: { retry: 9 } } }), { code: 'validation_failed', message: /"_ream" is reserved/ });
});

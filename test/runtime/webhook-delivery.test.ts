import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { NewTask, TaskStatus } from '../../src/queue/port.ts';
import { createReam, type Ream, type ReamOptions } from '../../src/runtime/create-ream.ts';
import { TASK_KINDS, webhookQueueJobId } from '../../src/runtime/task-kinds.ts';
import { startReceiver, type Receiver } from './webhook-receiver.ts';
import { adaptersOf, engineOf } from '../../src/runtime/internals.ts';

let dir: string;
let file: string;
let run = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-webhooks-'));
  file = join(dir, 'notes.txt');
  await writeFile(file, 'first page\fsecond page\n');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh data dir per test; fast webhook retries unless the test says otherwise; the receivers are on loopback. */
function options(extra: ReamOptions = {}): ReamOptions {
  const { webhooks, ...rest } = extra;
  return { dataDir: join(dir, `data-${run}`), threads: 1, webhooks: { retryBaseMs: 20, retryMaxMs: 50, allowPrivate: ['127.0.0.0/8'], ...webhooks }, ...rest };
}

async function deliveryTasks(ream: Ream, jobId: string): Promise<Record<TaskStatus, number>> {
  return ream.taskCounts(webhookQueueJobId(jobId));
}

/** Polls the job's delivery tasks until `done` holds (or fails after 10 s). */
async function until(ream: Ream, jobId: string, done: (counts: Record<TaskStatus, number>) => boolean): Promise<Record<TaskStatus, number>> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(20)) {
    const counts = await deliveryTasks(ream, jobId);
    if (done(counts)) return counts;
  }
  throw new Error(`delivery tasks of ${jobId}: ${JSON.stringify(await deliveryTasks(ream, jobId))}`);
}

function catchWarnings(): { messages: string[]; stop(): void } {
  const messages: string[] = [];
  const listener = (warning: Error): void => void messages.push(warning.message);
  process.on('warning', listener);
  return { messages, stop: () => process.off('warning', listener) };
}

describe('webhook delivery as a queue task', () => {
  let receiver: Receiver | undefined;
  let ream: Ream | undefined;
  test.beforeEach(() => {
    run++;
  });
  test.afterEach(async () => {
    await ream?.close();
    await receiver?.close();
    ream = undefined;
    receiver = undefined;
  });

  test('durable: a receiver that is down when the job ends gets the webhook after a restart', async () => {
    let up = false;
    receiver = await startReceiver(() => (up ? 204 : 'drop'));
    // Retries are seconds apart here, so the first handle closes before its retry is due.
    ream = await createReam(options({ webhooks: { retryBaseMs: 1_000, retryMaxMs: 1_000 } }));
    const job = await ream.submit({ files: [file], webhook: { url: receiver.url, secret: 's3cret' } });
    await receiver.received(1);
    await until(ream, job.id, (counts) => counts.queued === 1); // the first attempt failed: waiting to retry
    await ream.close();
    const failedAttempts = receiver.deliveries.length; // 1, or 2 if a short jittered retry came before the close
    up = true;
    ream = await createReam(options());
    await until(ream, job.id, (counts) => counts.completed === 1);
    assert.equal(receiver.deliveries.length, failedAttempts + 1, 'delivered by the reopened handle, once');
    const delivered = receiver.deliveries.at(-1);
    assert.equal(delivered?.event, 'job.completed');
    assert.equal(delivered.job.id, job.id);
    assert.equal(delivered.job.status, 'succeeded');
    assert.equal(delivered.job.counts.documents.succeeded, 1);
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(delivered.headers['ream-signature'])) ?? [];
    assert.equal(v1, createHmac('sha256', 's3cret').update(`${t}.${delivered.body}`).digest('hex'), 'signed at send time');
  });

  test('a 4xx is given up after one attempt, with a warning; the job and its documents are untouched', async () => {
    receiver = await startReceiver(() => 410);
    const warnings = catchWarnings();
    try {
      ream = await createReam(options());
      const job = await ream.submit({ files: [file], webhook: { url: receiver.url } });
      const counts = await until(ream, job.id, (c) => c.failed === 1);
      assert.equal(counts.queued + counts.leased, 0);
      assert.equal(receiver.deliveries.length, 1);
      assert.equal((await ream.getJob(job.id))?.status, 'succeeded');
      assert.deepEqual((await ream.counts(job.id)).documentsFailed, 0);
      const events = (await ream.listEvents(job.id, 0)).map((event) => event.type);
      assert.ok(!events.includes('document.failed') && !events.includes('job.failed'), events.join(', '));
      assert.ok(warnings.messages.some((m) => m.includes('gave up delivering job.completed') && m.includes('answered 410')), warnings.messages.join('\n'));
    } finally {
      warnings.stop();
    }
  });

  test('a deleted job\'s pending delivery is dropped', async () => {
    let jobId = '';
    receiver = await startReceiver(async (n) => {
      if (n === 1) await ream?.deleteJob(jobId); // deleted while its delivery waits for a retry
      return 503;
    });
    ream = await createReam(options());
    const job = await ream.createJob({ webhook: { url: receiver.url } });
    jobId = job.id;
    await ream.addFile(job.id, { path: file });
    await until(ream, job.id, (counts) => counts.completed === 1);
    assert.equal(await ream.getJob(job.id), undefined);
    assert.equal(receiver.deliveries.length, 1, 'no attempt after the job was deleted');
  });

  test('a cancelled job is announced, and its delivery retried after a 500', async () => {
    receiver = await startReceiver((n) => (n === 1 ? 500 : 200));
    ream = await createReam(options());
    const job = await ream.createJob({ webhook: { url: receiver.url } });
    await ream.cancel(job.id);
    await receiver.received(2);
    await until(ream, job.id, (counts) => counts.completed === 1);
    assert.deepEqual(receiver.deliveries.map((d) => [d.event, d.job.status]), [['job.cancelled', 'cancelled'], ['job.cancelled', 'cancelled']]);
    const cancelled = (await ream.listEvents(job.id, 0)).find((event) => event.type === 'job.cancelled');
    const id = `${job.id}.${String(cancelled?.seq)}`;
    assert.deepEqual(receiver.deliveries.map((d) => [d.headers['ream-delivery'], d.id]), [[id, id], [id, id]], 'one delivery id, on every attempt, for receivers to dedupe on');
  });

  test('each terminal event is delivered once, however often its delivery is enqueued and claimed', async () => {
    receiver = await startReceiver(() => 204);
    ream = await createReam(options({ concurrency: 4 }));
    const job = await ream.submit({ files: [file], webhook: { url: receiver.url } });
    await ream.wait(job.id);
    const ended = (await ream.listEvents(job.id, 0)).find((event) => event.type === 'job.completed');
    assert.ok(ended);
    const finished = await ream.getJob(job.id);
    assert.ok(finished);
    const engine = engineOf(ream);
    await Promise.all([engine.scheduleWebhook(finished, ended), engine.scheduleWebhook(finished, ended), engine.recover(() => Promise.resolve())]);
    await until(ream, job.id, (counts) => counts.completed === 1);
    // It ends again (a new file): a new terminal event, announced once more.
    await writeFile(join(dir, 'more.txt'), 'another file\n');
    await ream.addFile(job.id, { path: join(dir, 'more.txt') });
    await until(ream, job.id, (counts) => counts.completed === 2);
    await sleep(100); // a duplicate would have arrived by now
    assert.deepEqual(receiver.deliveries.map((d) => [d.event, d.job.counts.documents.total]), [['job.completed', 1], ['job.completed', 2]]);
  });

  test('recovery enqueues a delivery that a crash kept from being enqueued', async () => {
    receiver = await startReceiver(() => 204);
    ream = await createReam(options());
    const queue = adaptersOf(ream).queue;
    const enqueue = queue.enqueue.bind(queue);
    // As if the process died between storing the terminal event and enqueueing its delivery.
    queue.enqueue = (tasks: readonly NewTask[]) =>
      tasks.some((task) => task.kind === TASK_KINDS.webhook) ? Promise.reject(new Error('crashed')) : enqueue(tasks);
    const warnings = catchWarnings();
    let jobId: string;
    try {
      const job = await ream.submit({ files: [file], webhook: { url: receiver.url } });
      jobId = job.id;
      await ream.wait(job.id);
      const warned = (): boolean => warnings.messages.some((m) => m.includes('could not enqueue the webhook'));
      for (const deadline = Date.now() + 10_000; !warned() && Date.now() < deadline; ) await sleep(10);
      assert.equal(receiver.deliveries.length, 0);
      assert.ok(warnings.messages.some((m) => m.includes('could not enqueue the webhook')), warnings.messages.join('\n'));
    } finally {
      warnings.stop();
      queue.enqueue = enqueue;
    }
    await ream.close();
    ream = await createReam(options());
    await receiver.received(1);
    await until(ream, jobId, (counts) => counts.completed === 1);
    assert.equal(receiver.deliveries[0]?.event, 'job.completed');
  });
});

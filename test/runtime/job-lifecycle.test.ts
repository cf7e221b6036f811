import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { EventType } from '../../src/events/types.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { engineOf } from '../../src/runtime/internals.ts';
import type { DocumentStatus, JobRecord } from '../../src/store/port.ts';

// Status changes race without locks: each is one conditional update, and only the caller whose
// update applied announces it. These cases make the racers meet on purpose. No worker runs
// (`work: false`): the test moves documents itself, as the document tasks would.

let dir: string;
let ream: Ream;
let files: string[];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-lifecycle-'));
  files = [];
  for (const name of ['a.txt', 'b.txt', 'c.txt']) {
    const path = join(dir, name);
    await writeFile(path, `content of ${name}\n`);
    files.push(path);
  }
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
});
after(async () => {
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

async function jobWith(count: number): Promise<{ job: JobRecord; documentIds: string[] }> {
  const job = await ream.createJob({});
  const added = [];
  for (const path of files.slice(0, count)) added.push(await ream.addFile(job.id, { path }));
  return { job, documentIds: added.map((doc) => doc.documentId) };
}

async function setDocuments(jobId: string, documentIds: readonly string[], status: DocumentStatus): Promise<void> {
  for (const documentId of documentIds) await engineOf(ream).ports.store.updateJobDocument(jobId, documentId, { status, finishedAt: 1 });
}

async function eventTypes(jobId: string): Promise<EventType[]> {
  return (await engineOf(ream).ports.store.listEvents(jobId, 0)).map((event) => event.type);
}

function count<T>(items: readonly T[], item: T): number {
  return items.filter((x) => x === item).length;
}

void test('markStarted from many tasks at once starts the job once', async () => {
  const { job } = await jobWith(1);
  const started = await Promise.all(Array.from({ length: 8 }, () => engineOf(ream).markStarted(job)));
  assert.ok(started.every((j) => j.status === 'running'));
  assert.equal(count(await eventTypes(job.id), 'job.started'), 1);
});

void test('documents ending at once close the job once: one job.completed', async () => {
  const { job, documentIds } = await jobWith(3);
  await setDocuments(job.id, documentIds, 'succeeded');
  await Promise.all(Array.from({ length: 10 }, () => engineOf(ream).finalizeIfDone(job.id)));
  const types = await eventTypes(job.id);
  assert.equal(count(types, 'job.completed'), 1);
  assert.equal((await ream.getJob(job.id))?.status, 'succeeded');
});

void test('a job with an unfinished document is not closed', async () => {
  const { job, documentIds } = await jobWith(2);
  await setDocuments(job.id, documentIds.slice(0, 1), 'succeeded');
  await engineOf(ream).finalizeIfDone(job.id);
  assert.equal((await ream.getJob(job.id))?.status, 'queued');
  assert.deepEqual((await eventTypes(job.id)).filter((type) => type.startsWith('job.') && type !== 'job.queued'), []);
});

void test('cancel racing the close: exactly one terminal event, and the status is the winner\'s', async () => {
  for (let round = 0; round < 5; round++) {
    const { job, documentIds } = await jobWith(2);
    await setDocuments(job.id, documentIds, 'succeeded');
    await Promise.all([engineOf(ream).finalizeIfDone(job.id), ream.cancel(job.id), engineOf(ream).finalizeIfDone(job.id), ream.cancel(job.id)]);
    const types = await eventTypes(job.id);
    const terminal = types.filter((type) => type === 'job.completed' || type === 'job.cancelled' || type === 'job.failed');
    assert.equal(terminal.length, 1, types.join(', '));
    const status = (await ream.getJob(job.id))?.status;
    assert.equal(status, terminal[0] === 'job.cancelled' ? 'cancelled' : 'succeeded');
  }
});

void test('two retries at once: one runs (one generation, one job.started), the other is refused', async () => {
  const { job, documentIds } = await jobWith(2);
  await setDocuments(job.id, documentIds, 'failed');
  await engineOf(ream).finalizeIfDone(job.id);
  assert.equal((await ream.getJob(job.id))?.status, 'failed');
  const outcomes = await Promise.allSettled([ream.retry(job.id), ream.retry(job.id), ream.retry(job.id)]);
  const ran = outcomes.filter((o) => o.status === 'fulfilled');
  assert.equal(ran.length, 1);
  for (const o of outcomes) if (o.status === 'rejected') assert.equal((o.reason as { code?: string }).code, 'validation_failed');
  const stored = await ream.getJob(job.id);
  assert.equal(stored?.status, 'running');
  assert.equal(stored?.retryGeneration, 1);
  assert.equal(count(await eventTypes(job.id), 'job.started'), 1, 'retry announced once (the job never ran before)');
  const statuses = (await engineOf(ream).ports.store.listJobDocuments(job.id)).map((doc) => doc.status);
  assert.deepEqual(statuses, ['queued', 'queued'], 'the failed documents are due again');
});

void test('a new document reopens an ended job and holds off its close until it ends; a cancelled job takes none', async () => {
  const { job, documentIds } = await jobWith(1);
  await setDocuments(job.id, documentIds, 'succeeded');
  await engineOf(ream).finalizeIfDone(job.id);
  const ended = await ream.getJob(job.id);
  assert.equal(ended?.status, 'succeeded');
  const added = await ream.addFile(job.id, { path: files[1] ?? '' });
  const reopened = await ream.getJob(job.id);
  assert.equal(reopened?.status, 'running');
  assert.equal(reopened?.finishedAt, null);
  assert.ok((reopened?.documentsSeq ?? 0) > (ended?.documentsSeq ?? 0));
  await engineOf(ream).finalizeIfDone(job.id);
  assert.equal((await ream.getJob(job.id))?.status, 'running', 'the new document is unfinished');
  await setDocuments(job.id, [added.documentId], 'failed');
  await engineOf(ream).finalizeIfDone(job.id);
  assert.equal((await ream.getJob(job.id))?.status, 'partially_succeeded');

  await ream.cancel(job.id); // ended: nothing changes
  assert.equal((await ream.getJob(job.id))?.status, 'partially_succeeded');
  const { job: other } = await jobWith(1);
  await ream.cancel(other.id);
  await assert.rejects(ream.addFile(other.id, { path: files[2] ?? '' }), { code: 'validation_failed' });
});

void test('a job held open does not end while files come in one by one: it ends once, after the last release', async () => {
  const job = await ream.createJob({});
  const statusOf = async (): Promise<string | undefined> => (await ream.getJob(job.id))?.status;
  const release = ream.holdOpen(job.id);
  const second = ream.holdOpen(job.id);
  const first = await ream.addFile(job.id, { path: files[0] ?? '' });
  await setDocuments(job.id, [first.documentId], 'succeeded');
  await engineOf(ream).finalizeIfDone(job.id);
  const open = ['queued', 'running'];
  assert.ok(open.includes((await statusOf()) ?? ''), 'held: every document has ended, but more files are coming');
  const next = await ream.addFile(job.id, { path: files[1] ?? '' });
  await setDocuments(job.id, [next.documentId], 'succeeded');
  await second();
  await second(); // a release counts once
  assert.ok(open.includes((await statusOf()) ?? ''), 'still held by the other holder');
  await release();
  assert.equal(await statusOf(), 'succeeded', 'the last release ends the job its documents have finished');
  await release();
  const types = await eventTypes(job.id);
  assert.equal(count(types, 'job.completed'), 1);

  // Released with a document unfinished: the job ends with its last document, as unheld jobs do.
  const other = await ream.createJob({});
  const letGo = ream.holdOpen(other.id);
  const pending = await ream.addFile(other.id, { path: files[2] ?? '' });
  await letGo();
  assert.ok(open.includes((await ream.getJob(other.id))?.status ?? ''), 'a document is unfinished: the job stays open');
  await setDocuments(other.id, [pending.documentId], 'failed');
  await engineOf(ream).finalizeIfDone(other.id);
  assert.equal((await ream.getJob(other.id))?.status, 'failed');
});

void test('recovery marks the unfinished documents of a job cancelled just before a crash', async () => {
  const { job, documentIds } = await jobWith(2);
  await setDocuments(job.id, documentIds.slice(0, 1), 'succeeded');
  // What a crash right after cancel's status change leaves: the job cancelled, a document still queued.
  await engineOf(ream).ports.store.updateJob(job.id, { status: 'cancelled', finishedAt: Date.now() });
  await engineOf(ream).recover(() => Promise.reject(new Error('no document is stuck')));
  const status = new Map((await engineOf(ream).ports.store.listJobDocuments(job.id)).map((doc) => [doc.documentId, doc.status] as const));
  assert.deepEqual([status.get(documentIds[0] ?? ''), status.get(documentIds[1] ?? '')], ['succeeded', 'cancelled']);
});

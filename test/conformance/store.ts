import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../src/events/types.ts';
import type { JobCounts, JobStatus, NewJob, Store, UploadRecord, WorkerRecord } from '../../src/store/port.ts';
import { registerSuite, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

type Subject = { store: Store };

function newJob(overrides: Partial<NewJob> = {}): NewJob {
  return { id: randomUUID(), tenantId: 't1', key: null, pipeline: 'extract', options: { lang: 'en' }, priority: 0, ...overrides };
}

function sha(n: number): string {
  return n.toString(16).padStart(64, '0');
}

function newEvent(jobId: string, tenantId = 't1'): NewEvent {
  return {
    type: 'job.progress',
    jobId,
    tenantId,
    at: 1_000,
    progress: { documentsDone: 0, documentsTotal: 1, pagesDone: 0, pagesTotal: 10, percent: 0, etaSeconds: null },
  };
}

/** A job with `n` documents attached, in order. */
async function jobWithDocuments(store: Store, n: number): Promise<{ jobId: string; documentIds: string[] }> {
  const job = await store.createJob(newJob(), 1_000);
  const documentIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const doc = await store.putDocument({ id: randomUUID(), tenantId: 't1', sha256: sha(1_000 + i + Math.floor(Math.random() * 1e9)), name: `d${i}.pdf`, size: 10, mediaType: 'application/pdf' }, 1_000);
    documentIds.push(doc.id);
  }
  await store.addJobDocuments(documentIds.map((documentId, ordinal) => ({ jobId: job.id, documentId, ordinal, source: `d${ordinal}.pdf` })));
  return { jobId: job.id, documentIds };
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => (error as { code?: unknown }).code === code);
}

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'createJob and getJob round-trip every field',
    async run({ store }) {
      const input = newJob({ key: 'k1', priority: 5, options: { nested: { a: [1, 'two', null] } } });
      const created = await store.createJob(input, 1_234);
      const expected = { ...input, status: 'queued', error: null, createdAt: 1_234, startedAt: null, finishedAt: null };
      assert.deepEqual(created, expected);
      assert.deepEqual(await store.getJob(input.id), expected);
      assert.equal(await store.getJob('missing'), undefined);
    },
  },
  {
    name: 'findJobByKey is scoped by tenant, and a second create with the key returns the first job',
    async run({ store }) {
      const first = await store.createJob(newJob({ key: 'same' }), 1);
      const other = await store.createJob(newJob({ key: 'same', tenantId: 't2' }), 2);
      assert.notEqual(first.id, other.id);
      assert.equal((await store.findJobByKey('t1', 'same'))?.id, first.id);
      assert.equal((await store.findJobByKey('t2', 'same'))?.id, other.id);
      assert.equal(await store.findJobByKey('t1', 'nope'), undefined);
      const again = await store.createJob(newJob({ key: 'same' }), 3);
      assert.equal(again.id, first.id);
      // Jobs without a key never collide.
      await store.createJob(newJob(), 4);
      await store.createJob(newJob(), 5);
    },
  },
  {
    name: 'updateJob patches only what it is given; an unknown job is not_found',
    async run({ store }) {
      const job = await store.createJob(newJob(), 1);
      const running = await store.updateJob(job.id, { status: 'running', startedAt: 10 });
      assert.equal(running.status, 'running');
      assert.equal(running.startedAt, 10);
      const failed = await store.updateJob(job.id, { status: 'failed', error: { code: 'timeout', message: 'slow' }, finishedAt: 20 });
      assert.deepEqual(failed.error, { code: 'timeout', message: 'slow' });
      assert.equal(failed.startedAt, 10);
      const cleared = await store.updateJob(job.id, { error: null, finishedAt: null });
      assert.equal(cleared.error, null);
      assert.equal(cleared.finishedAt, null);
      assert.equal(cleared.status, 'failed');
      assert.deepEqual(await store.updateJob(job.id, {}), cleared);
      await rejectsWithCode(store.updateJob('missing', { status: 'running' }), 'not_found');
    },
  },
  {
    name: 'listJobs pages newest first with an opaque cursor, by tenant and status',
    async run({ store }) {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        // Two jobs share each timestamp: the cursor must break ties without skipping or repeating.
        const job = await store.createJob(newJob(), 1_000 + Math.floor(i / 2));
        ids.push(job.id);
        if (i % 3 === 0) await store.updateJob(job.id, { status: 'running' });
      }
      await store.createJob(newJob({ tenantId: 'other' }), 5_000);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await store.listJobs({ tenantId: 't1', limit: 3, ...(cursor === undefined ? {} : { cursor }) });
        assert.ok(page.items.length <= 3);
        seen.push(...page.items.map((j) => j.id));
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      assert.equal(seen.length, 7);
      assert.deepEqual(new Set(seen), new Set(ids));
      const jobs = await Promise.all(seen.map((id) => store.getJob(id)));
      const created = jobs.map((j) => j?.createdAt ?? -1);
      assert.deepEqual(created, [...created].sort((a, b) => b - a));
      const running = await store.listJobs({ tenantId: 't1', status: 'running' });
      assert.equal(running.items.length, 3);
      assert.ok(running.items.every((j) => j.status === 'running'));
      assert.equal(running.nextCursor, null);
      assert.equal((await store.listJobs({ tenantId: 'nobody' })).items.length, 0);
    },
  },
  {
    name: 'listJobs rejects a malformed cursor with validation_failed',
    async run({ store }) {
      await rejectsWithCode(store.listJobs({ tenantId: 't1', cursor: 'not a cursor' }), 'validation_failed');
    },
  },
  {
    name: 'listUnfinishedJobs returns queued and running jobs only',
    async run({ store }) {
      const queued = await store.createJob(newJob(), 1);
      const running = await store.createJob(newJob({ tenantId: 't2' }), 2);
      await store.updateJob(running.id, { status: 'running' });
      for (const status of ['succeeded', 'partially_succeeded', 'failed', 'cancelled'] as const) {
        const done = await store.createJob(newJob(), 3);
        await store.updateJob(done.id, { status });
      }
      const ids = (await store.listUnfinishedJobs()).map((j) => j.id);
      assert.deepEqual(new Set(ids), new Set([queued.id, running.id]));
    },
  },
  {
    name: 'listJobsFinishedSince returns ended jobs of any tenant finished at or after the time',
    async run({ store }) {
      const running = await store.createJob(newJob(), 1);
      await store.updateJob(running.id, { status: 'running' });
      const old = await store.createJob(newJob(), 2);
      await store.updateJob(old.id, { status: 'succeeded', finishedAt: 99 });
      const recent = await store.createJob(newJob({ tenantId: 't2' }), 3);
      await store.updateJob(recent.id, { status: 'cancelled', finishedAt: 100 });
      assert.deepEqual((await store.listJobsFinishedSince(100)).map((j) => j.id), [recent.id]);
    },
  },
  {
    name: 'putDocument stores content once per tenant and sha256',
    async run({ store }) {
      const doc = { id: randomUUID(), tenantId: 't1', sha256: sha(1), name: 'a.pdf', size: 42, mediaType: 'application/pdf' };
      const first = await store.putDocument(doc, 7);
      assert.deepEqual(first, { ...doc, createdAt: 7 });
      const again = await store.putDocument({ ...doc, id: randomUUID(), name: 'b.pdf' }, 8);
      assert.deepEqual(again, first);
      const otherTenant = await store.putDocument({ ...doc, id: randomUUID(), tenantId: 't2' }, 9);
      assert.notEqual(otherTenant.id, first.id);
      assert.deepEqual(await store.getDocument(first.id), first);
      assert.equal(await store.getDocument('missing'), undefined);
    },
  },
  {
    name: 'addJobDocuments keeps existing pairs and lists in ordinal order',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 3);
      const [d0, d1, d2] = documentIds as [string, string, string];
      await store.updateJobDocument(jobId, d1, { status: 'running' });
      // Adding the same pair again (with another ordinal) changes nothing.
      await store.addJobDocuments([{ jobId, documentId: d1, ordinal: 99, source: 'again' }]);
      const listed = await store.listJobDocuments(jobId);
      assert.deepEqual(listed.map((d) => d.documentId), [d0, d1, d2]);
      assert.deepEqual(listed[1], {
        jobId, documentId: d1, ordinal: 1, source: 'd1.pdf', status: 'running', pagesTotal: null, chunksTotal: null,
        info: null, error: null, startedAt: null, finishedAt: null,
      });
      assert.deepEqual(await store.getJobDocument(jobId, d2), listed[2]);
      assert.equal(await store.getJobDocument(jobId, 'missing'), undefined);
      await store.addJobDocuments([]);
    },
  },
  {
    name: 'updateJobDocument patches fields; an unknown pair is not_found',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 1);
      const documentId = documentIds[0] ?? '';
      const patched = await store.updateJobDocument(jobId, documentId, {
        status: 'partially_succeeded', pagesTotal: 12, chunksTotal: 3, info: { producer: 'x', n: [1, 2] },
        error: { code: 'invalid_pdf', message: 'page 3' }, startedAt: 5, finishedAt: 6,
      });
      assert.equal(patched.status, 'partially_succeeded');
      assert.equal(patched.pagesTotal, 12);
      assert.equal(patched.chunksTotal, 3);
      assert.deepEqual(patched.info, { producer: 'x', n: [1, 2] });
      assert.deepEqual(patched.error, { code: 'invalid_pdf', message: 'page 3' });
      assert.equal(patched.startedAt, 5);
      assert.equal(patched.finishedAt, 6);
      const cleared = await store.updateJobDocument(jobId, documentId, { error: null, info: null });
      assert.equal(cleared.error, null);
      assert.equal(cleared.info, null);
      assert.equal(cleared.pagesTotal, 12);
      await rejectsWithCode(store.updateJobDocument(jobId, 'missing', { status: 'failed' }), 'not_found');
    },
  },
  {
    name: 'putChunkResult is an idempotent upsert, listed in index order',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 1);
      const documentId = documentIds[0] ?? '';
      const base = { jobId, documentId, status: 'succeeded' as const, error: null, durationMs: 5 };
      await store.putChunkResult({ ...base, index: 1, from: 10, to: 20, output: { text: 'b' } });
      await store.putChunkResult({ ...base, index: 0, from: 0, to: 10, status: 'failed', output: null, error: { code: 'timeout', message: 't' } });
      // The repeat of chunk 0 succeeds this time: it replaces the failure.
      await store.putChunkResult({ ...base, index: 0, from: 0, to: 10, output: { text: 'a' } });
      await store.putChunkResult({ ...base, index: 0, from: 0, to: 10, output: { text: 'a' } });
      const results = await store.listChunkResults(jobId, documentId);
      assert.deepEqual(results, [
        { ...base, index: 0, from: 0, to: 10, output: { text: 'a' } },
        { ...base, index: 1, from: 10, to: 20, output: { text: 'b' } },
      ]);
      assert.deepEqual(await store.listChunkResults(jobId, 'other'), []);
    },
  },
  {
    name: 'putDocumentResult is an idempotent upsert',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 1);
      const documentId = documentIds[0] ?? '';
      assert.equal(await store.getDocumentResult(jobId, documentId), undefined);
      await store.putDocumentResult({ jobId, documentId, output: { pages: ['one'] } });
      await store.putDocumentResult({ jobId, documentId, output: { pages: ['one', 'two'] } });
      assert.deepEqual(await store.getDocumentResult(jobId, documentId), { jobId, documentId, output: { pages: ['one', 'two'] } });
    },
  },
  {
    name: 'jobCounts are computed from rows, so repeats never double-count',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 5);
      const [d0, d1, d2, d3] = documentIds as [string, string, string, string, string];
      const zero: JobCounts = {
        documentsTotal: 5, documentsSucceeded: 0, documentsPartial: 0, documentsFailed: 0, documentsCancelled: 0,
        pagesTotal: 0, pagesDone: 0, chunksTotal: 0, chunksSucceeded: 0, chunksFailed: 0,
      };
      assert.deepEqual(await store.jobCounts(jobId), zero);
      await store.updateJobDocument(jobId, d0, { status: 'succeeded', pagesTotal: 10, chunksTotal: 2 });
      await store.updateJobDocument(jobId, d1, { status: 'partially_succeeded', pagesTotal: 4, chunksTotal: 1 });
      await store.updateJobDocument(jobId, d2, { status: 'failed' });
      await store.updateJobDocument(jobId, d3, { status: 'cancelled' });
      const chunk = { jobId, documentId: d0, output: null, error: null, durationMs: 1 };
      for (let repeat = 0; repeat < 3; repeat++) {
        await store.putChunkResult({ ...chunk, index: 0, from: 0, to: 5, status: 'succeeded' });
        await store.putChunkResult({ ...chunk, index: 1, from: 5, to: 10, status: 'succeeded' });
        await store.putChunkResult({ ...chunk, documentId: d1, index: 0, from: 0, to: 4, status: 'failed' });
      }
      assert.deepEqual(await store.jobCounts(jobId), {
        documentsTotal: 5, documentsSucceeded: 1, documentsPartial: 1, documentsFailed: 1, documentsCancelled: 1,
        pagesTotal: 14, pagesDone: 14, chunksTotal: 3, chunksSucceeded: 2, chunksFailed: 1,
      });
      assert.deepEqual(await store.jobCounts('missing'), { ...zero, documentsTotal: 0 });
    },
  },
  {
    name: 'appendEvent assigns a gapless per-job seq from 1 and round-trips the event',
    async run({ store }) {
      const a = await store.createJob(newJob(), 1);
      const b = await store.createJob(newJob(), 1);
      const full: NewEvent = {
        ...newEvent(a.id), type: 'chunk.failed', documentId: 'd', chunk: { index: 2, from: 20, to: 30 }, stage: 'extract',
        message: 'page 25 is broken', error: { code: 'invalid_pdf', message: 'bad xref' },
      };
      const first = await store.appendEvent(full);
      assert.deepEqual(first, { ...full, seq: 1 });
      assert.equal((await store.appendEvent(newEvent(b.id))).seq, 1);
      assert.equal((await store.appendEvent(newEvent(a.id))).seq, 2);
      const listed = await store.listEvents(a.id, 0);
      assert.deepEqual(listed[0], { ...full, seq: 1 });
      assert.deepEqual(listed.map((e) => e.seq), [1, 2]);
    },
  },
  {
    name: 'appendEvent stays gapless under concurrent appends',
    async run({ store }) {
      const jobs = [await store.createJob(newJob(), 1), await store.createJob(newJob(), 1)];
      const appended = await Promise.all(
        Array.from({ length: 200 }, (_, i) => store.appendEvent(newEvent(jobs[i % 2]?.id ?? ''))),
      );
      for (const job of jobs) {
        const seqs = appended.filter((e) => e.jobId === job.id).map((e) => e.seq).sort((x, y) => x - y);
        assert.deepEqual(seqs, Array.from({ length: 100 }, (_, i) => i + 1));
        assert.deepEqual((await store.listEvents(job.id, 0)).map((e) => e.seq), seqs);
      }
    },
  },
  {
    name: 'listEvents returns seq > afterSeq in order, up to limit',
    async run({ store }) {
      const job = await store.createJob(newJob(), 1);
      for (let i = 0; i < 10; i++) await store.appendEvent(newEvent(job.id));
      assert.deepEqual((await store.listEvents(job.id, 3)).map((e) => e.seq), [4, 5, 6, 7, 8, 9, 10]);
      assert.deepEqual((await store.listEvents(job.id, 3, 2)).map((e) => e.seq), [4, 5]);
      assert.deepEqual(await store.listEvents(job.id, 10), []);
      assert.deepEqual(await store.listEvents('missing', 0), []);
    },
  },
  {
    name: 'appendEvent for an unknown job is not_found',
    async run({ store }) {
      await rejectsWithCode(store.appendEvent(newEvent('missing')), 'not_found');
    },
  },  {
    name: 'API keys: create, find by hash, list by tenant, revoke',
    async run({ store }) {
      const id = randomUUID();
      const hash = sha(Math.floor(Math.random() * 1e12));
      const tenant = `t-${randomUUID()}`;
      const created = await store.createApiKey({ id, tenantId: tenant, name: 'ci', role: 'user', hash }, 1_000);
      assert.deepEqual(created, { id, tenantId: tenant, name: 'ci', role: 'user', hash, createdAt: 1_000, revokedAt: null });
      assert.deepEqual(await store.findApiKeyByHash(hash), created);
      assert.equal(await store.findApiKeyByHash(sha(7)), undefined);
      const admin = await store.createApiKey({ id: randomUUID(), tenantId: tenant, name: 'ops', role: 'admin', hash: sha(Math.floor(Math.random() * 1e12) + 1e12) }, 2_000);
      assert.equal(admin.role, 'admin');
      assert.deepEqual((await store.listApiKeys(tenant)).map((k) => k.id), [id, admin.id]);
      assert.ok((await store.listApiKeys()).some((k) => k.id === admin.id));
      assert.deepEqual(await store.listApiKeys(`none-${randomUUID()}`), []);
      await rejectsWithCode(store.createApiKey({ id, tenantId: tenant, name: 'dup', role: 'user', hash: sha(5) }, 3_000), 'validation_failed');
      const revoked = await store.revokeApiKey(id, 4_000);
      assert.equal(revoked.revokedAt, 4_000);
      assert.equal((await store.revokeApiKey(id, 5_000)).revokedAt, 4_000, 'the first revocation time stays');
      assert.equal((await store.findApiKeyByHash(hash))?.revokedAt, 4_000);
      await rejectsWithCode(store.revokeApiKey('missing', 1), 'not_found');
    },
  },
  {
    name: 'workers: a heartbeat upserts by id, listWorkers filters by last seen, removeWorker forgets',
    async run({ store }) {
      const id = randomUUID();
      const worker: WorkerRecord = {
        id, host: 'box-1', pid: 4242, startedAt: 1_700_000_000_000, lastSeenAt: 1_700_000_005_000,
        concurrency: 8, inFlight: 3, tasksDone: 10, tasksFailed: 1, state: 'running',
      };
      await store.putWorker(worker);
      const beat = { ...worker, lastSeenAt: 1_700_000_010_000, inFlight: 0, tasksDone: 13, state: 'draining' as const };
      await store.putWorker(beat);
      const stale = { ...worker, id: randomUUID(), startedAt: 1_600_000_000_000, lastSeenAt: 1_700_000_000_000, state: 'paused' as const };
      await store.putWorker(stale);
      const mine = (workers: WorkerRecord[]) => workers.filter((w) => w.id === id || w.id === stale.id);
      assert.deepEqual(mine(await store.listWorkers(1_700_000_010_000)), [beat]);
      assert.deepEqual(mine(await store.listWorkers(0)), [stale, beat], 'oldest start first');
      await store.removeWorker(id);
      await store.removeWorker(id);
      assert.deepEqual(mine(await store.listWorkers(0)), [stale]);
    },
  },
  {
    name: 'jobStatusCounts counts jobs per status across tenants, every status present',
    async run({ store }) {
      const before = await store.jobStatusCounts();
      const statuses: JobStatus[] = ['queued', 'running', 'succeeded', 'partially_succeeded', 'failed', 'cancelled'];
      assert.deepEqual(Object.keys(before).sort(), [...statuses].sort());
      const made: JobStatus[] = ['queued', 'running', 'running', 'failed', 'succeeded'];
      for (const [i, status] of made.entries()) {
        const job = await store.createJob(newJob({ tenantId: `t${i % 2}` }), 1);
        if (status !== 'queued') await store.updateJob(job.id, { status });
      }
      const after = await store.jobStatusCounts();
      const added = Object.fromEntries(statuses.map((s) => [s, after[s] - before[s]]));
      assert.deepEqual(added, { queued: 1, running: 2, succeeded: 1, partially_succeeded: 0, failed: 1, cancelled: 0 });
    },
  },
  {
    name: 'uploads: put replaces, get round-trips optional fields, failed ones expire by age',
    async run({ store }) {
      const stored: UploadRecord = {
        id: randomUUID().replaceAll('-', ''), tenantId: 't1', status: 'stored', name: 'scan.pdf', size: 1_234,
        createdAt: 1_000, documentId: randomUUID(), sha256: sha(9), mediaType: 'application/pdf',
      };
      const refused: UploadRecord = {
        id: randomUUID().replaceAll('-', ''), tenantId: 't1', status: 'failed', name: 'x.exe', size: 9, createdAt: 2_000,
        error: { type: 'about:blank', status: 415, code: 'unsupported_type', detail: 'not a document', extra: [1, null] },
      };
      const pending: UploadRecord = { id: randomUUID().replaceAll('-', ''), tenantId: 't2', status: 'failed', name: 'late.bin', size: 1, createdAt: 5_000 };
      for (const record of [stored, refused, pending]) await store.putUpload(record);
      assert.deepEqual(await store.getUpload(stored.id), stored);
      assert.deepEqual(await store.getUpload(refused.id), refused);
      assert.deepEqual(await store.getUpload(pending.id), pending, 'absent fields stay absent');
      assert.equal(await store.getUpload('missing'), undefined);
      const replaced = { ...refused, name: 'renamed.exe', error: 'plain text error' };
      await store.putUpload(replaced);
      assert.deepEqual(await store.getUpload(refused.id), replaced);
      assert.equal(await store.deleteFailedUploadsBefore(3_000), 1, 'only failed ones older than the cut-off');
      assert.equal(await store.getUpload(refused.id), undefined);
      assert.deepEqual(await store.getUpload(stored.id), stored, 'a stored upload never expires this way');
      assert.deepEqual(await store.getUpload(pending.id), pending);
      assert.equal(await store.deleteUpload(stored.id), true);
      assert.equal(await store.deleteUpload(stored.id), false);
      assert.equal(await store.getUpload(stored.id), undefined);
    },
  },
];

/** Registers the store port's contract (src/store/port.ts) against one adapter. */
export function storeConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('store', name, make, cases, options);
}

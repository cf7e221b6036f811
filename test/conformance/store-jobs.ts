import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DocumentStore, EventStore, JobDocumentStore, JobStatus, JobStore, ListJobsQuery } from '../../src/store/port.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { jobSearchCases } from './store-jobs-search.ts';
import { jobWithDocuments, newEvent, newJob, sha } from './store-fixtures.ts';
import { registerSuite, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

/** The job port, and the ports whose rows `deleteJob` must take along. */
type Subject = { store: JobStore & DocumentStore & JobDocumentStore & EventStore };

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'createJob and getJob round-trip every field',
    async run({ store }) {
      const input = newJob({ key: 'k1', priority: 5, options: { nested: { a: [1, 'two', null] } } });
      const created = await store.createJob(input, 1_234);
      const expected = {
        ...input, status: 'queued', error: null, createdAt: 1_234, startedAt: null, finishedAt: null,
        retryGeneration: 0, webhook: null, documentsSeq: 0,
      };
      assert.deepEqual(created, expected);
      assert.deepEqual(await store.getJob(input.id), expected);
      assert.equal(await store.getJob('missing'), undefined);
    },
  },
  {
    name: 'a job keeps its webhook (with or without a secret) in its own fields, not in its options',
    async run({ store }) {
      const signed = await store.createJob(newJob({ webhook: { url: 'https://example.test/hook', secret: 's3cret' } }), 1);
      assert.deepEqual(signed.webhook, { url: 'https://example.test/hook', secret: 's3cret' });
      assert.deepEqual(signed.options, { lang: 'en' });
      const unsigned = await store.createJob(newJob({ webhook: { url: 'https://example.test/other' } }), 1);
      assert.deepEqual((await store.getJob(unsigned.id))?.webhook, { url: 'https://example.test/other' });
    },
  },
  {
    name: 'updateJob with a condition applies only when it holds, and answers undefined otherwise',
    async run({ store }) {
      const job = await store.createJob(newJob(), 1);
      assert.equal(await store.updateJob(job.id, { status: 'succeeded' }, { ifStatusIn: ['running'] }), undefined);
      assert.equal((await store.getJob(job.id))?.status, 'queued', 'a failed condition changes nothing');
      const started = await store.updateJob(job.id, { status: 'running', startedAt: 5, retryGeneration: 2 }, { ifStatusIn: ['queued'] });
      assert.equal(started?.status, 'running');
      assert.equal(started?.retryGeneration, 2);
      assert.equal(await store.updateJob(job.id, { status: 'running' }, { ifStatusIn: [] }), undefined, 'an empty list never holds');
      assert.equal(await store.updateJob('missing', { status: 'running' }, { ifStatusIn: ['queued'] }), undefined);
      // An empty condition holds for any job that exists.
      assert.equal((await store.updateJob(job.id, {}, {}))?.id, job.id);
    },
  },
  {
    name: 'bumpDocumentsSeq adds one in the statement; ifDocumentsSeq refuses a stale read',
    async run({ store }) {
      const job = await store.createJob(newJob({ priority: 5 }), 1);
      const bumped = await Promise.all(Array.from({ length: 5 }, () => store.updateJob(job.id, { bumpDocumentsSeq: true })));
      assert.deepEqual(bumped.map((j) => j.documentsSeq).sort(), [1, 2, 3, 4, 5], 'concurrent bumps are never lost');
      assert.equal(await store.updateJob(job.id, { status: 'succeeded' }, { ifDocumentsSeq: 4 }), undefined);
      assert.equal((await store.updateJob(job.id, { status: 'succeeded' }, { ifDocumentsSeq: 5 }))?.status, 'succeeded');
    },
  },
  {
    name: 'ifDocumentsEnded holds only when none of the job\'s documents is queued or running',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 2);
      const [first = '', second = ''] = documentIds;
      await store.updateJobDocument(jobId, first, { status: 'succeeded' });
      assert.equal(await store.updateJob(jobId, { status: 'succeeded' }, { ifDocumentsEnded: true }), undefined, 'one is still queued');
      await store.updateJobDocument(jobId, second, { status: 'running' });
      assert.equal(await store.updateJob(jobId, { status: 'succeeded' }, { ifDocumentsEnded: true }), undefined, 'one is running');
      await store.updateJobDocument(jobId, second, { status: 'cancelled' });
      // Another job's unfinished documents do not count.
      await jobWithDocuments(store, 1);
      assert.equal((await store.updateJob(jobId, { status: 'partially_succeeded' }, { ifDocumentsEnded: true }))?.status, 'partially_succeeded');
      const empty = await store.createJob(newJob(), 1);
      assert.equal((await store.updateJob(empty.id, { status: 'succeeded' }, { ifDocumentsEnded: true }))?.status, 'succeeded', 'no document: none unfinished');
    },
  },
  {
    name: 'of concurrent conditional updates of one transition exactly one applies',
    async run({ store }) {
      for (let round = 0; round < 5; round++) {
        const job = await store.createJob(newJob(), 1);
        await store.updateJob(job.id, { status: 'running' });
        const racers = await Promise.all(
          (['succeeded', 'failed', 'cancelled', 'partially_succeeded'] as const).map((status) =>
            store.updateJob(job.id, { status, finishedAt: 2 }, { ifStatusIn: ['queued', 'running'], ifDocumentsEnded: true }),
          ),
        );
        const winners = racers.filter((r) => r !== undefined);
        assert.equal(winners.length, 1);
        assert.equal((await store.getJob(job.id))?.status, winners[0]?.status);
      }
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
    name: 'concurrent creates with one key make one job',
    async run({ store }) {
      const created = await Promise.all(Array.from({ length: 10 }, (_, i) => store.createJob(newJob({ key: 'raced' }), i)));
      assert.equal(new Set(created.map((job) => job.id)).size, 1);
      assert.deepEqual(await store.findJobByKey('t1', 'raced'), created[0]);
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
      // No tenant: every tenant's jobs, newest first, a page at a time.
      const everyone: string[] = [];
      cursor = undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await store.listJobs({ limit: 5, ...(cursor === undefined ? {} : { cursor }) });
        everyone.push(...page.items.map((j) => j.id));
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      assert.equal(everyone.length, 8);
      assert.equal((await store.getJob(everyone[0] ?? ''))?.tenantId, 'other', 'the newest, of another tenant, first');
    },
  },
  {
    name: 'listJobs reads oldest first, a page at a time, and a cursor only in the order it came from',
    async run({ store }) {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await store.createJob(newJob(), 1_000 + Math.floor(i / 2))).id);
      const expected = ids.map((id, i) => ({ id, createdAt: 1_000 + Math.floor(i / 2) })).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)).map((j) => j.id);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await store.listJobs({ tenantId: 't1', order: 'oldest', limit: 3, ...(cursor === undefined ? {} : { cursor }) });
        seen.push(...page.items.map((j) => j.id));
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      assert.deepEqual(seen, expected);
      const oldest = await store.listJobs({ tenantId: 't1', order: 'oldest', limit: 3 });
      const newest = await store.listJobs({ tenantId: 't1', limit: 3 });
      await rejectsWithCode(store.listJobs({ tenantId: 't1', cursor: oldest.nextCursor ?? '' }), 'validation_failed');
      await rejectsWithCode(store.listJobs({ tenantId: 't1', order: 'oldest', cursor: newest.nextCursor ?? '' }), 'validation_failed');
    },
  },
  {
    name: 'listJobs narrowed by a search: id prefix or pipeline name, either case, wildcards taken literally',
    async run({ store }) {
      const a = await store.createJob(newJob({ id: 'abc-1', pipeline: 'extract' }), 1);
      const b = await store.createJob(newJob({ id: 'abd-2', pipeline: 'Invoice_Fields' }), 2);
      const c = await store.createJob(newJob({ id: 'xab-3', pipeline: 'ocr' }), 3);
      await store.createJob(newJob({ id: 'abc-other', tenantId: 'other', pipeline: 'extract' }), 4);
      const ids = async (search: string, more: { status?: JobStatus; order?: 'oldest' } = {}): Promise<string[]> =>
        (await store.listJobs({ tenantId: 't1', search, ...more })).items.map((j) => j.id);
      assert.deepEqual(await ids('ab'), [b.id, a.id], 'an id prefix, not an id that only holds it');
      assert.deepEqual(await ids('ABC'), [a.id]);
      assert.deepEqual(await ids('fields'), [b.id], 'a part of a pipeline name, either case');
      assert.deepEqual(await ids('ice_f'), [b.id]);
      assert.deepEqual(await ids('_'), [b.id], 'an underscore is an underscore, not any character');
      assert.deepEqual(await ids('%'), []);
      assert.deepEqual(await ids('  '), [c.id, b.id, a.id], 'a blank search narrows nothing');
      assert.deepEqual(await ids('ab', { order: 'oldest' }), [a.id, b.id]);
      await store.updateJob(b.id, { status: 'running' });
      assert.deepEqual(await ids('ab', { status: 'running' }), [b.id]);
      const paged = await store.listJobs({ tenantId: 't1', search: 'ab', limit: 1 });
      assert.deepEqual(paged.items.map((j) => j.id), [b.id]);
      const rest = await store.listJobs({ tenantId: 't1', search: 'ab', limit: 1, cursor: paged.nextCursor ?? '' });
      assert.deepEqual(rest.items.map((j) => j.id), [a.id]);
      assert.equal(rest.nextCursor, null);
    },
  },
  {
    name: 'listJobs finds by search a job once when its id and pipeline both match, in list order, however many pipelines match',
    async run({ store }) {
      const both = await store.createJob(newJob({ id: 'Pdf-1', pipeline: 'pdf-text' }), 1);
      const byPipeline = await store.createJob(newJob({ id: 'j-2', pipeline: 'scan-pdf' }), 2);
      const byId = await store.createJob(newJob({ id: 'pdf-3', pipeline: 'ocr' }), 3);
      await store.createJob(newJob({ id: 'j-4', pipeline: 'ocr' }), 4);
      const ids = async (search: string, more: { order?: 'oldest'; limit?: number; cursor?: string } = {}) => {
        const page = await store.listJobs({ tenantId: 't1', search, ...more });
        return { ids: page.items.map((j) => j.id), next: page.nextCursor };
      };
      assert.deepEqual((await ids('PDF')).ids, [byId.id, byPipeline.id, both.id]);
      assert.deepEqual((await ids('pdf', { order: 'oldest' })).ids, [both.id, byPipeline.id, byId.id]);
      const first = await ids('pdf', { limit: 2 });
      assert.deepEqual(first.ids, [byId.id, byPipeline.id]);
      assert.deepEqual((await ids('pdf', { limit: 2, cursor: first.next ?? '' })).ids, [both.id]);
      // More pipelines holding the text than one search reads one by one: the same jobs all the same.
      const many: string[] = [];
      for (let i = 0; i < 20; i++) many.push((await store.createJob(newJob({ id: `m-${i}`, pipeline: `pdf-${String(i).padStart(2, '0')}` }), 10 + i)).id);
      assert.deepEqual((await ids('pdf')).ids, [...many.reverse(), byId.id, byPipeline.id, both.id]);
    },
  },
  {
    name: 'listJobs counts the jobs of the list when asked, searched or not, each once, whatever the page',
    async run({ store }) {
      await store.createJob(newJob({ id: 'Pdf-1', pipeline: 'pdf-text' }), 1);
      await store.createJob(newJob({ id: 'j-2', pipeline: 'scan-pdf' }), 2);
      await store.createJob(newJob({ id: 'pdf-3', pipeline: 'ocr' }), 3);
      await store.createJob(newJob({ id: 'j-4', pipeline: 'ocr' }), 4);
      await store.createJob(newJob({ id: 'pdf-5', tenantId: 'other', pipeline: 'pdf' }), 5);
      const total = async (query: Omit<ListJobsQuery, 'total'>) => (await store.listJobs({ tenantId: 't1', ...query, total: true })).total;
      assert.deepEqual(await total({}), { count: 4, exact: true });
      assert.deepEqual(await total({ limit: 1 }), { count: 4, exact: true }, 'the list, not the page');
      assert.deepEqual(await total({ search: 'pdf' }), { count: 3, exact: true }, 'a job matched by its id and its pipeline counts once');
      assert.deepEqual(await total({ search: 'ocr' }), { count: 2, exact: true });
      assert.deepEqual(await total({ search: 'nothing' }), { count: 0, exact: true });
      assert.deepEqual(await total({ status: 'running' }), { count: 0, exact: true });
      assert.deepEqual((await store.listJobs({ search: 'pdf', total: true })).total, { count: 4, exact: true }, 'every tenant\'s');
      assert.equal((await store.listJobs({ tenantId: 't1' })).total, undefined, 'not counted unless asked');
    },
  },
  {
    name: 'listJobs finds a pipeline name of letters past A-Z by the very text it holds',
    async run({ store }) {
      const job = await store.createJob(newJob({ pipeline: 'Übersetzung-İstanbul' }), 1);
      const ids = async (search: string): Promise<string[]> => (await store.listJobs({ tenantId: 't1', search })).items.map((j) => j.id);
      assert.deepEqual(await ids('Übersetzung'), [job.id]);
      assert.deepEqual(await ids('İstanbul'), [job.id]);
      assert.deepEqual(await ids('bersetzung-İ'), [job.id]);
    },
  },
  {
    name: 'listJobs refuses a search holding NUL, and a cursor no page gives, with validation_failed',
    async run({ store }) {
      await store.createJob(newJob(), 5);
      const cursor = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
      await rejectsWithCode(store.listJobs({ tenantId: 't1', search: 'a\u0000b' }), 'validation_failed');
      await rejectsWithCode(store.listJobs({ tenantId: 't1', cursor: cursor([1.5, 'x']) }), 'validation_failed');
      await rejectsWithCode(store.listJobs({ tenantId: 't1', cursor: cursor([1e300, 'x']) }), 'validation_failed');
      await rejectsWithCode(store.listJobs({ tenantId: 't1', cursor: cursor([9, 'a\u0000']) }), 'validation_failed');
      assert.equal((await store.listJobs({ tenantId: 't1', cursor: cursor([9, 'x']) })).items.length, 1);
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
    name: 'listJobsFinishedBefore: ended jobs before the time, oldest end first, by tenant or all but some, at most limit',
    async run({ store }) {
      const [a, b, c] = ['ret-a', 'ret-b', 'ret-c'];
      const ended = async (tenantId: string, finishedAt: number, status: 'succeeded' | 'failed' = 'succeeded'): Promise<string> => {
        const job = await store.createJob(newJob({ tenantId }), 1);
        await store.updateJob(job.id, { status, finishedAt });
        return job.id;
      };
      const a1 = await ended(a, 50);
      const a2 = await ended(a, 10, 'failed');
      await ended(a, 200); // not before the cutoff
      const b1 = await ended(b, 30);
      const c1 = await ended(c, 20);
      const running = await store.createJob(newJob({ tenantId: a }), 1);
      await store.updateJob(running.id, { status: 'running' });
      const mine = (jobs: { id: string; tenantId: string }[]): string[] => jobs.filter((j) => [a, b, c].includes(j.tenantId)).map((j) => j.id);
      assert.deepEqual(mine(await store.listJobsFinishedBefore({ before: 100, limit: 100 })), [a2, c1, b1, a1], 'oldest end first');
      assert.deepEqual(mine(await store.listJobsFinishedBefore({ before: 100, limit: 100, tenantId: a })), [a2, a1]);
      assert.deepEqual(mine(await store.listJobsFinishedBefore({ before: 100, limit: 100, exceptTenants: [a, c] })), [b1]);
      assert.deepEqual(mine(await store.listJobsFinishedBefore({ before: 100, limit: 2, tenantId: a })), [a2, a1]);
      assert.equal((await store.listJobsFinishedBefore({ before: 100, limit: 1, tenantId: a })).length, 1);
    },
  },
  {
    name: 'deleteJob removes the job with its documents, results and events; documents stay',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 2);
      const kept = await jobWithDocuments(store, 1);
      const documentId = documentIds[0] ?? '';
      for (const id of [jobId, kept.jobId]) await store.appendEvent(newEvent(id));
      await store.putChunkResult({ jobId, documentId, index: 0, from: 0, to: 1, status: 'succeeded', output: null, error: null, durationMs: 1 });
      await store.putDocumentResult({ jobId, documentId, output: { text: 'x' } });
      assert.equal(await store.deleteJob(jobId), true);
      assert.equal(await store.getJob(jobId), undefined);
      assert.deepEqual(await store.listJobDocuments(jobId), []);
      assert.deepEqual(await store.listChunkResults(jobId, documentId), []);
      assert.equal(await store.getDocumentResult(jobId, documentId), undefined);
      assert.deepEqual(await store.listEvents(jobId, 0), []);
      assert.equal((await store.getDocument(documentId))?.id, documentId, 'documents outlive their jobs');
      assert.equal((await store.listEvents(kept.jobId, 0)).length, 1, 'other jobs keep theirs');
      assert.equal((await store.listJobDocuments(kept.jobId)).length, 1);
      assert.equal(await store.deleteJob(jobId), false);
    },
  },
  {
    name: 'updateJob with releaseKey frees the job\'s key: the job stays, and a create with the key makes a new job',
    async run({ store }) {
      const key = `released-${randomUUID()}`;
      const first = await store.createJob(newJob({ key }), 1);
      const released = await store.updateJob(first.id, { releaseKey: true }, {});
      assert.equal(released?.key, null);
      assert.equal(released?.status, first.status, 'nothing else changes');
      assert.equal((await store.getJob(first.id))?.key, null);
      assert.equal(await store.findJobByKey('t1', key), undefined);
      const second = await store.createJob(newJob({ key }), 2);
      assert.notEqual(second.id, first.id);
      assert.equal((await store.findJobByKey('t1', key))?.id, second.id);
    },
  },
  {
    name: 'markJobDeleting hides the job and frees its key, keeping its rows for deleteJob to take',
    async run({ store }) {
      const key = `marked-${randomUUID()}`;
      const job = await store.createJob(newJob({ key }), 1);
      await store.putJobArtifacts(job.id, [{ sha256: sha(7001), size: 10 }]);
      assert.equal(await store.markJobDeleting(job.id), true);
      assert.equal(await store.getJob(job.id), undefined);
      assert.equal((await store.getJob(job.id, { deleting: true }))?.id, job.id);
      assert.equal(await store.findJobByKey('t1', key), undefined);
      assert.notEqual((await store.createJob(newJob({ key }), 2)).id, job.id, 'the key makes a new job');
      // A report recorded after the mark is read with those before it.
      await store.putJobArtifacts(job.id, [{ sha256: sha(7002), size: 10 }]);
      assert.deepEqual(await store.jobArtifactBlobs(job.id), [sha(7001), sha(7002)]);
      assert.equal(await store.markJobDeleting(job.id), true, 'marked again: still there to delete');
      assert.equal(await store.deleteJob(job.id), true);
      assert.deepEqual(await store.jobArtifactBlobs(job.id), []);
      assert.equal(await store.markJobDeleting(job.id), false);
    },
  },
  {
    name: 'updateJob with restoreKey gives a released key back, and is refused once a new job holds it',
    async run({ store }) {
      const key = `restored-${randomUUID()}`;
      const first = await store.createJob(newJob({ key }), 1);
      await store.updateJob(first.id, { releaseKey: true }, {});
      assert.equal((await store.updateJob(first.id, { restoreKey: key }, {}))?.key, key);
      assert.equal((await store.findJobByKey('t1', key))?.id, first.id);
      await store.updateJob(first.id, { releaseKey: true }, {});
      const second = await store.createJob(newJob({ key }), 2);
      await assert.rejects(store.updateJob(first.id, { restoreKey: key }, {}));
      assert.equal((await store.findJobByKey('t1', key))?.id, second.id, 'the new job keeps the key');
      assert.equal((await store.getJob(first.id))?.key, null);
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
    name: 'oldestJobCreatedAt answers the oldest creation time of a status across tenants, null when none',
    async run({ store }) {
      assert.equal(await store.oldestJobCreatedAt('queued'), null);
      const started = await store.createJob(newJob({ tenantId: 'a' }), 1_000);
      await store.updateJob(started.id, { status: 'running' });
      await store.createJob(newJob({ tenantId: 'b' }), 3_000);
      await store.createJob(newJob({ tenantId: 'a' }), 2_000);
      assert.equal(await store.oldestJobCreatedAt('queued'), 2_000);
      assert.equal(await store.oldestJobCreatedAt('running'), 1_000);
      assert.equal(await store.oldestJobCreatedAt('failed'), null);
    },
  },
  ...jobSearchCases,
];

/** Registers the job port's contract (src/store/job-store.ts) against one adapter. */
export function jobStoreConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('store/jobs', name, make, cases, options);
}

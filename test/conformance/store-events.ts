import assert from 'node:assert/strict';
import type { NewEvent } from '../../src/events/types.ts';
import type { DocumentStore, EventStore, JobDocumentStore, JobStore } from '../../src/store/port.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { jobWithDocuments, newEvent, newJob } from './store-fixtures.ts';
import { registerSuite, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

/** The event port, and the jobs its events belong to. */
type Subject = { store: EventStore & Pick<JobStore, 'createJob'> & Pick<DocumentStore, 'putDocument'> & Pick<JobDocumentStore, 'addJobDocuments' | 'getJobDocument'> };

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'appendDocumentEnd: the document ends with its event, once; an ended document takes neither, and uses no seq',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 1);
      const documentId = documentIds[0] ?? '';
      const end = { jobId, documentId, status: 'failed' as const, error: { code: 'invalid_pdf' as const, message: 'bad' }, finishedAt: 2_000 };
      const said = await store.appendDocumentEnd(end, { ...newEvent(jobId), type: 'document.failed', documentId });
      assert.equal(said?.seq, 1);
      const ended = await store.getJobDocument(jobId, documentId);
      assert.deepEqual([ended?.status, ended?.error?.code, ended?.finishedAt], ['failed', 'invalid_pdf', 2_000]);
      assert.equal(await store.appendDocumentEnd({ ...end, status: 'succeeded', error: null }, { ...newEvent(jobId), type: 'document.completed', documentId }), undefined, 'ended already');
      assert.equal((await store.getJobDocument(jobId, documentId))?.status, 'failed');
      assert.equal((await store.appendEvent({ ...newEvent(jobId), type: 'job.failed' })).seq, 2, 'the refused end used no seq');
      assert.deepEqual((await store.listEvents(jobId, 0)).map((e) => e.type), ['document.failed', 'job.failed']);
      // With ifStatusIn: a cancel ends only a queued or running document; error left as it was.
      const other = await jobWithDocuments(store, 1);
      const otherId = other.documentIds[0] ?? '';
      const cancel = { jobId: other.jobId, documentId: otherId, status: 'cancelled' as const, finishedAt: 3_000, ifStatusIn: ['running' as const] };
      assert.equal(await store.appendDocumentEnd(cancel, { ...newEvent(other.jobId), type: 'document.cancelled', documentId: otherId }), undefined, 'queued is not in ifStatusIn');
      assert.equal((await store.appendDocumentEnd({ ...cancel, ifStatusIn: ['queued'] }, { ...newEvent(other.jobId), type: 'document.cancelled', documentId: otherId }))?.seq, 1);
      const cancelled = await store.getJobDocument(other.jobId, otherId);
      assert.deepEqual([cancelled?.status, cancelled?.error], ['cancelled', null]);
    },
  },
  {
    name: 'appendDocumentEnd: an event made from the counts gets them read after the document ended, with every end stored before',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 3);
      const [a = '', b = ''] = documentIds;
      const seen: number[][] = [];
      const ending = (documentId: string, status: 'succeeded' | 'failed') => store.appendDocumentEnd({ jobId, documentId, status, finishedAt: 2_000 }, (counts) => {
        seen.push([counts.documentsSucceeded, counts.documentsFailed, counts.documentsTotal]);
        return { ...newEvent(jobId), type: status === 'failed' ? 'document.failed' : 'document.completed', documentId };
      });
      assert.equal((await ending(a, 'succeeded'))?.seq, 1);
      assert.equal((await ending(b, 'failed'))?.seq, 2);
      assert.equal(await ending(a, 'failed'), undefined, 'ended already: not made');
      assert.deepEqual(seen, [[1, 0, 3], [1, 1, 3]]);
    },
  },
  {
    name: 'hasDocumentEvent: whether the job has an event of a type about a document, the id matched whole (its _ no wildcard)',
    async run({ store }) {
      const a = await store.createJob(newJob(), 1);
      const b = await store.createJob(newJob(), 1);
      await store.appendEvent({ ...newEvent(a.id), type: 'document.started', documentId: 'doc_a1' });
      await store.appendEvent({ ...newEvent(a.id), type: 'document.completed', documentId: 'doc_b2' });
      assert.equal(await store.hasDocumentEvent(a.id, 'document.started', 'doc_a1'), true);
      assert.equal(await store.hasDocumentEvent(a.id, 'document.started', 'doc_b2'), false, 'another type');
      assert.equal(await store.hasDocumentEvent(a.id, 'document.started', 'docXa1'), false, '_ is matched as itself');
      assert.equal(await store.hasDocumentEvent(a.id, 'document.started', 'doc_a'), false, 'the whole id');
      assert.equal(await store.hasDocumentEvent(b.id, 'document.started', 'doc_a1'), false, 'another job');
    },
  },
  {
    name: 'hasChunkEvent: whether the job has an event of a type about a chunk of a document, its index matched whole',
    async run({ store }) {
      const a = await store.createJob(newJob(), 1);
      await store.appendEvent({ ...newEvent(a.id), type: 'chunk.completed', documentId: 'doc_a1', chunk: { index: 10, from: 50, to: 55 } });
      assert.equal(await store.hasChunkEvent(a.id, 'chunk.completed', 'doc_a1', 10), true);
      assert.equal(await store.hasChunkEvent(a.id, 'chunk.completed', 'doc_a1', 1), false, 'chunk 1 is not chunk 10');
      assert.equal(await store.hasChunkEvent(a.id, 'chunk.failed', 'doc_a1', 10), false, 'another type');
      assert.equal(await store.hasChunkEvent(a.id, 'chunk.completed', 'doc_a2', 10), false, 'another document');
    },
  },
  {
    name: 'listFailureEvents: failed chunks and documents since a time, newest first, of one tenant or all, bounded',
    async run({ store }) {
      const a = await store.createJob(newJob({ tenantId: 'ta' }), 1);
      const b = await store.createJob(newJob({ tenantId: 'tb' }), 1);
      const fail = (jobId: string, tenantId: string, at: number, type: 'chunk.failed' | 'document.failed', code: 'timeout' | 'invalid_pdf'): NewEvent => ({
        ...newEvent(jobId, tenantId), type, at, documentId: `doc-${at}`, error: { code, message: `${code} at ${at}` },
      });
      await store.appendEvent(fail(a.id, 'ta', 100, 'chunk.failed', 'timeout'));
      await store.appendEvent({ ...newEvent(a.id, 'ta'), type: 'chunk.completed', at: 150 });
      await store.appendEvent(fail(a.id, 'ta', 200, 'document.failed', 'invalid_pdf'));
      await store.appendEvent({ ...newEvent(a.id, 'ta'), type: 'job.failed', at: 250, error: { code: 'invalid_pdf', message: 'the job failed' } });
      await store.appendEvent(fail(b.id, 'tb', 300, 'chunk.failed', 'timeout'));
      const all = await store.listFailureEvents({ since: 0, limit: 100 });
      assert.deepEqual(all.map((e) => [e.at, e.type, e.tenantId, e.error?.code]), [
        [300, 'chunk.failed', 'tb', 'timeout'],
        [200, 'document.failed', 'ta', 'invalid_pdf'],
        [100, 'chunk.failed', 'ta', 'timeout'],
      ]);
      assert.equal(all[1]?.documentId, 'doc-200');
      assert.deepEqual((await store.listFailureEvents({ tenantId: 'ta', since: 0, limit: 100 })).map((e) => e.at), [200, 100]);
      assert.deepEqual((await store.listFailureEvents({ since: 150, limit: 100 })).map((e) => e.at), [300, 200]);
      assert.deepEqual((await store.listFailureEvents({ since: 0, limit: 1 })).map((e) => e.at), [300]);
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
    name: 'appendEvent for an unknown job is not_found and uses no number',
    async run({ store }) {
      await rejectsWithCode(store.appendEvent(newEvent('missing')), 'not_found');
      const job = await store.createJob(newJob(), 1);
      assert.equal((await store.appendEvent(newEvent(job.id))).seq, 1);
    },
  },
];

/** Registers the event port's contract (src/store/event-store.ts) against one adapter. */
export function eventStoreConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('store/events', name, make, cases, options);
}

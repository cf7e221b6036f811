import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DocumentStore, JobCounts, JobDocumentStore, JobStore } from '../../src/store/port.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { jobWithDocuments, newJob, sha } from './store-fixtures.ts';
import { registerSuite, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

/** The job-document port, and what its rows reference (a job, documents). */
type Subject = { store: JobDocumentStore & Pick<JobStore, 'createJob' | 'deleteJob'> & Pick<DocumentStore, 'putDocument'> };

/** A job with one document, and the fields of a succeeded checkpoint of its first chunk (pages 1–2), output aside. */
async function firstChunkOfOneDocument(store: Subject['store']) {
  const { jobId, documentIds } = await jobWithDocuments(store, 1);
  return { jobId, documentId: documentIds[0] ?? '', index: 0, from: 0, to: 2, status: 'succeeded' as const, error: null, durationMs: 5 };
}

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'latestJobOfDocument answers the newest job of the tenant holding the document',
    async run({ store }) {
      const { jobId: first, documentIds } = await jobWithDocuments(store, 1);
      const documentId = documentIds[0] ?? '';
      const later = await store.createJob(newJob(), 2_000);
      await store.addJobDocuments([{ jobId: later.id, documentId, ordinal: 0, source: 'again.pdf' }]);
      const elsewhere = await store.createJob(newJob({ tenantId: 'other' }), 3_000);
      await store.addJobDocuments([{ jobId: elsewhere.id, documentId, ordinal: 0, source: 'theirs.pdf' }]);
      assert.equal(await store.latestJobOfDocument(documentId, 't1'), later.id, 'the newer of t1\'s two jobs, not the other tenant\'s');
      assert.notEqual(first, later.id);
      assert.equal(await store.latestJobOfDocument(documentId, 'nobody'), undefined);
      assert.equal(await store.latestJobOfDocument('no-such-document', 't1'), undefined);
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
    name: 'listJobDocuments pages after an ordinal (and id, for a shared ordinal), in order, up to a limit',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 5);
      const ids = (page: Awaited<ReturnType<typeof store.listJobDocuments>>): string[] => page.map((d) => d.documentId);
      assert.deepEqual(ids(await store.listJobDocuments(jobId, { limit: 2 })), documentIds.slice(0, 2));
      assert.deepEqual(ids(await store.listJobDocuments(jobId, { after: { ordinal: 1 }, limit: 2 })), documentIds.slice(2, 4));
      assert.deepEqual(ids(await store.listJobDocuments(jobId, { after: { ordinal: 3 }, limit: 2 })), documentIds.slice(4), 'a short last page');
      assert.deepEqual(await store.listJobDocuments(jobId, { after: { ordinal: 4 } }), [], 'nothing after the last');
      assert.deepEqual(ids(await store.listJobDocuments(jobId, { after: { ordinal: -1 } })), documentIds, 'no limit: the rest');
      // Two racing attaches may share an ordinal: the id breaks the tie, so no row is skipped or repeated.
      const twins = [randomUUID(), randomUUID()].sort();
      for (const [i, id] of twins.entries()) {
        await store.putDocument({ id, tenantId: 't1', sha256: sha(5_000 + i + Math.floor(Math.random() * 1e9)), name: 'twin.pdf', size: 1, mediaType: 'application/pdf' }, 1_000);
      }
      await store.addJobDocuments(twins.map((documentId) => ({ jobId, documentId, ordinal: 5, source: 'twin.pdf' })));
      const first = await store.listJobDocuments(jobId, { after: { ordinal: 4, documentId: documentIds[4] ?? '' }, limit: 1 });
      assert.deepEqual(ids(first), [twins[0]]);
      assert.deepEqual(ids(await store.listJobDocuments(jobId, { after: { ordinal: 5, documentId: twins[0] ?? '' }, limit: 10 })), [twins[1]]);
      assert.deepEqual(await store.listJobDocuments('no-such-job', { limit: 10 }), []);
    },
  },
  {
    name: 'listJobDocuments narrowed to some statuses pages among them only',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 5);
      const [, d1, , d3] = documentIds as [string, string, string, string, string];
      await store.updateJobDocument(jobId, d1, { status: 'failed' });
      await store.updateJobDocument(jobId, d3, { status: 'partially_succeeded' });
      const ids = (page: Awaited<ReturnType<typeof store.listJobDocuments>>): string[] => page.map((d) => d.documentId);
      const statuses = ['failed', 'partially_succeeded'] as const;
      assert.deepEqual(ids(await store.listJobDocuments(jobId, { statuses })), [d1, d3]);
      assert.deepEqual(ids(await store.listJobDocuments(jobId, { statuses, limit: 1 })), [d1]);
      assert.deepEqual(ids(await store.listJobDocuments(jobId, { statuses, after: { ordinal: 1, documentId: d1 }, limit: 1 })), [d3]);
      assert.deepEqual(await store.listJobDocuments(jobId, { statuses: ['cancelled'] }), []);
      assert.deepEqual(ids(await store.listJobDocuments(jobId, { statuses: [] })), documentIds, 'none named: any status');
    },
  },
  {
    name: 'a child document keeps its parentId (an e-mail\'s attachment)',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 1);
      const [parent] = documentIds as [string];
      const child = await store.putDocument({ id: randomUUID(), tenantId: 't1', sha256: sha(7 + Math.floor(Math.random() * 1e9)), name: 'a.pdf', size: 3, mediaType: 'application/pdf' }, 1_000);
      await store.addJobDocuments([{ jobId, documentId: child.id, ordinal: 1, source: 'd0.pdf#1/a.pdf', parentId: parent }]);
      assert.equal((await store.getJobDocument(jobId, child.id))?.parentId, parent);
      assert.deepEqual((await store.listJobDocuments(jobId)).map((d) => d.parentId), [undefined, parent]);
      assert.equal(Object.hasOwn((await store.getJobDocument(jobId, parent)) ?? {}, 'parentId'), false, 'absent, not null, for a file the user gave');
      assert.deepEqual((await store.listJobDocuments(jobId, { parentId: parent })).map((d) => d.documentId), [child.id], 'its children only');
      assert.deepEqual(await store.listJobDocuments(jobId, { parentId: child.id }), [], 'a document with no children');
    },
  },
  {
    name: 'nextOrdinal answers the ordinal after the last document\'s, 0 for an empty job',
    async run({ store }) {
      const empty = await store.createJob(newJob(), 1);
      assert.equal(await store.nextOrdinal(empty.id), 0);
      assert.equal(await store.nextOrdinal('no-such-job'), 0);
      const { jobId, documentIds } = await jobWithDocuments(store, 3);
      assert.equal(await store.nextOrdinal(jobId), 3);
      const late = await store.putDocument({ id: randomUUID(), tenantId: 't1', sha256: sha(11 + Math.floor(Math.random() * 1e9)), name: 'late.pdf', size: 1, mediaType: 'application/pdf' }, 1_000);
      await store.addJobDocuments([{ jobId, documentId: late.id, ordinal: 41, source: 'late.pdf' }]);
      assert.equal(await store.nextOrdinal(jobId), 42, 'after the highest, not the count');
      assert.equal(documentIds.length, 3);
    },
  },
  {
    name: 'hasUnfinishedDocuments is true while any document is queued or running',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 2);
      const [d0, d1] = documentIds as [string, string];
      assert.equal(await store.hasUnfinishedDocuments(jobId), true, 'both queued');
      await store.updateJobDocument(jobId, d0, { status: 'succeeded' });
      await store.updateJobDocument(jobId, d1, { status: 'running' });
      assert.equal(await store.hasUnfinishedDocuments(jobId), true, 'one running');
      await store.updateJobDocument(jobId, d1, { status: 'failed' });
      assert.equal(await store.hasUnfinishedDocuments(jobId), false, 'both ended');
      assert.equal(await store.hasUnfinishedDocuments('no-such-job'), false);
    },
  },
  {
    name: 'addJobDocuments with an unknown job or document is not_found and adds none',
    async run({ store }) {
      const job = await store.createJob(newJob(), 1);
      const doc = await store.putDocument({ id: randomUUID(), tenantId: 't1', sha256: sha(Math.floor(Math.random() * 1e12)), name: 'a.pdf', size: 1, mediaType: 'application/pdf' }, 1);
      await rejectsWithCode(
        store.addJobDocuments([
          { jobId: job.id, documentId: doc.id, ordinal: 0, source: 'a.pdf' },
          { jobId: job.id, documentId: 'missing', ordinal: 1, source: 'b.pdf' },
        ]),
        'not_found',
      );
      assert.deepEqual(await store.listJobDocuments(job.id), [], 'all or none');
      await rejectsWithCode(store.addJobDocuments([{ jobId: 'missing', documentId: doc.id, ordinal: 0, source: 'a.pdf' }]), 'not_found');
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
      assert.deepEqual(await store.updateJobDocument(jobId, documentId, {}), cleared);
      await rejectsWithCode(store.updateJobDocument(jobId, 'missing', { status: 'failed' }), 'not_found');
    },
  },
  {
    name: 'updateJobDocument with ifStatusIn applies only from those statuses, else answers the row unchanged',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 1);
      const documentId = documentIds[0] ?? '';
      const cancelled = await store.updateJobDocument(jobId, documentId, { status: 'cancelled', finishedAt: 7 }, { ifStatusIn: ['queued', 'running'] });
      assert.deepEqual([cancelled.status, cancelled.finishedAt], ['cancelled', 7]);
      const refused = await store.updateJobDocument(jobId, documentId, { status: 'succeeded', finishedAt: 8 }, { ifStatusIn: ['queued', 'running'] });
      assert.deepEqual([refused.status, refused.finishedAt], ['cancelled', 7], 'an ended document keeps its end');
      await rejectsWithCode(store.updateJobDocument(jobId, 'missing', { status: 'failed' }, { ifStatusIn: ['queued'] }), 'not_found');
    },
  },
  {
    name: 'putChunkResult is an idempotent upsert, listed in index order, read one by one, and listed without outputs',
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
      // One at a time, and the states without outputs.
      assert.deepEqual(await store.getChunkResult(jobId, documentId, 1), { ...base, index: 1, from: 10, to: 20, output: { text: 'b' } });
      assert.equal(await store.getChunkResult(jobId, documentId, 2), undefined);
      assert.deepEqual(await store.getChunkState(jobId, documentId, 1), { index: 1, from: 10, to: 20, status: 'succeeded' });
      assert.equal(await store.getChunkState(jobId, documentId, 2), undefined);
      assert.equal(await store.getChunkResult(jobId, 'other', 0), undefined);
      assert.deepEqual(await store.listChunkStates(jobId, documentId), [
        { index: 0, from: 0, to: 10, status: 'succeeded' },
        { index: 1, from: 10, to: 20, status: 'succeeded' },
      ]);
      await store.putChunkResult({ ...base, index: 2, from: 20, to: 25, status: 'failed', output: null, error: { code: 'timeout', message: 't' } });
      assert.deepEqual((await store.listChunkStates(jobId, documentId)).map((state) => state.status), ['succeeded', 'succeeded', 'failed']);
      assert.deepEqual(await store.listChunkStates(jobId, 'other'), []);
    },
  },
  {
    name: 'a checkpoint output\'s body text comes back as it went in, left out when read withoutBody, replaced by a repeat',
    async run({ store }) {
      const base = await firstChunkOfOneDocument(store);
      const { jobId, documentId } = base;
      // Quotes, backslashes, line breaks and non-ASCII: stored verbatim, not as JSON inside JSON.
      const body = '{"pages":[{"page":1,"text":"a: \\"x\\"\\nb: é"}],"fields":{}}';
      const output = { failures: [{ page: 2, code: 'invalid_sheet', message: 'no row 2' }], fieldNames: [], pagesRead: 1, body };
      await store.putChunkResult({ ...base, output });
      assert.deepEqual(await store.getChunkResult(jobId, documentId, 0), { ...base, output });
      assert.deepEqual((await store.listChunkResults(jobId, documentId))[0], { ...base, output });
      const { body: _body, ...small } = output;
      assert.deepEqual(await store.getChunkResult(jobId, documentId, 0, { withoutBody: true }), { ...base, output: small });
      // An output whose body is no text is stored whole; a repeat without a body drops the old one.
      await store.putChunkResult({ ...base, output: { body: { nested: true } } });
      assert.deepEqual((await store.getChunkResult(jobId, documentId, 0))?.output, { body: { nested: true } });
      await store.putChunkResult({ ...base, output: { text: 'plain' } });
      assert.deepEqual((await store.getChunkResult(jobId, documentId, 0))?.output, { text: 'plain' });
    },
  },
  {
    name: 'a checkpoint output\'s csv text is read only withCsv (with or without its body), and a repeat without one drops it',
    async run({ store }) {
      const base = await firstChunkOfOneDocument(store);
      const { jobId, documentId } = base;
      const body = '{"pages":[],"fields":{}}';
      const csv = 'a,"b ""c"""\r\né,\n';
      const small = { failures: [], fieldNames: ['x'], pagesRead: 2 };
      await store.putChunkResult({ ...base, output: { ...small, csv, body } });
      assert.deepEqual((await store.getChunkResult(jobId, documentId, 0))?.output, { ...small, body }, 'not read unless asked for');
      assert.deepEqual((await store.getChunkResult(jobId, documentId, 0, { withoutBody: true }))?.output, small, 'not read by the merge');
      assert.deepEqual((await store.getChunkResult(jobId, documentId, 0, { withoutBody: true, withCsv: true }))?.output, { ...small, csv });
      assert.deepEqual((await store.getChunkResult(jobId, documentId, 0, { withCsv: true }))?.output, { ...small, csv, body });
      await store.putChunkResult({ ...base, output: { ...small, body } });
      assert.deepEqual((await store.getChunkResult(jobId, documentId, 0, { withCsv: true }))?.output, { ...small, body }, 'a repeat without records drops the old ones');
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
    name: 'putDocumentResult of a result longer than a string holds is resource_limit, not retried, and stores nothing',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 1);
      const documentId = documentIds[0] ?? '';
      // V8's longest string is 536,870,888 characters: each text fits, the JSON of both does not.
      const text = 'x'.repeat(300_000_000);
      const error = await rejectsWithCode(store.putDocumentResult({ jobId, documentId, output: { text, pages: [text] } }), 'resource_limit');
      assert.equal(error.retryable, false);
      assert.equal(await store.getDocumentResult(jobId, documentId), undefined);
    },
  },
  {
    name: 'report files: names unique in the job as documents end, listed by a keyset that neither skips nor repeats while more end, found by name',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 3);
      const [d0, d1, d2] = documentIds as [string, string, string];
      const files = (...names: string[]): Array<{ name: string; row: number; sha256: string; size: number; mediaType: string }> =>
        names.map((name, i) => ({ name, row: i + 1, sha256: sha(Math.floor(Math.random() * 1e12)), size: 10 + i, mediaType: name.endsWith('.pdf') ? 'application/pdf' : 'text/html' }));
      // The second document ends first: its names are its own.
      await store.putJobReportFiles(jobId, d1, files('A.html', 'A.pdf', 'B.html'));
      const first = await store.listJobReportFiles(jobId, { limit: 2 });
      assert.deepEqual(first.map((file) => [file.name, file.documentId]), [['A.html', d1], ['A.pdf', d1]]);
      // The first ends meanwhile: its clashing base takes -2 (any case), its .html and .pdf alike; a page after the cursor goes on where the last left off.
      await store.putJobReportFiles(jobId, d0, files('a.html', 'a.pdf', 'C.html'));
      const rest = await store.listJobReportFiles(jobId, { afterSeq: first.at(-1)?.seq ?? 0 });
      assert.deepEqual(rest.map((file) => [file.name, file.documentId]), [['B.html', d1], ['a-2.html', d0], ['a-2.pdf', d0], ['C.html', d0]]);
      assert.deepEqual((await store.listJobReportFiles(jobId, { documentId: d0, row: 3 })).map((file) => file.name), ['C.html']);
      // A document's files recorded again (a retry) replace its own, keep clear of the others' names and go to the end.
      await store.putJobReportFiles(jobId, d2, files('C.html'));
      await store.putJobReportFiles(jobId, d0, files('a.html', 'C.html'));
      assert.deepEqual((await store.listJobReportFiles(jobId)).map((file) => file.name), ['A.html', 'A.pdf', 'B.html', 'C-2.html', 'a-2.html', 'C.html']);
      const found = await store.getJobReportFile(jobId, 'C.html');
      assert.deepEqual([found?.documentId, found?.row, found?.size, found?.mediaType], [d0, 2, 11, 'text/html']);
      assert.equal(await store.getJobReportFile(jobId, 'c.html'), undefined, 'names are looked up as they are');
      assert.equal(await store.getJobReportFile(jobId, 'nothing.html'), undefined);
      // Documents of one job ending at once (processes of a deployment) each get names of their own.
      const { jobId: busy, documentIds: many } = await jobWithDocuments(store, 6);
      await Promise.all(many.map((documentId) => store.putJobReportFiles(busy, documentId, files('same.html', 'same.pdf'))));
      const names = (await store.listJobReportFiles(busy)).map((file) => file.name);
      assert.equal(new Set(names).size, 12, names.join(' '));
      await store.deleteJob(busy);
      assert.deepEqual(await store.listJobReportFiles(busy), [], 'they go with their job');
    },
  },
  {
    name: 'putJobArtifacts records a job\'s report blobs once; blobInUse sees them and live documents\' content',
    async run({ store }) {
      const { jobId } = await jobWithDocuments(store, 1);
      const [report, shared, free] = [1, 2, 3].map(() => sha(Math.floor(Math.random() * 1e12))) as [string, string, string];
      const file = (sha256: string): { sha256: string; size: number } => ({ sha256, size: 10 });
      await store.putJobArtifacts(jobId, [file(report), file(shared), file(report)]);
      await store.putJobArtifacts(jobId, [file(shared)]);
      await store.putJobArtifacts(jobId, []);
      assert.deepEqual(await store.jobArtifactBlobs(jobId), [report, shared].sort());
      assert.deepEqual(await store.jobArtifactBlobs('no-such-job'), []);
      assert.equal(await store.blobInUse(report), true);
      assert.equal(await store.blobInUse(free), false);
      assert.equal(await store.tenantHasArtifact('t1', report), true, "the job's tenant (newJob's) counts its report");
      assert.equal(await store.tenantHasArtifact('t2', report), false, 'another tenant does not');
      assert.equal(await store.tenantHasArtifact('t1', free), false);
      await store.putDocument({ id: randomUUID(), tenantId: 't1', sha256: free, name: 'f.html', size: 3, mediaType: 'text/html' }, 1_000);
      assert.equal(await store.blobInUse(free), true, 'a live document\'s content');
      // A report per row of a 20,000-row table: more parameters than one statement may bind.
      const many = Array.from({ length: 20_000 }, (_, i) => file(sha(i)));
      await store.putJobArtifacts(jobId, many);
      assert.equal((await store.jobArtifactBlobs(jobId)).length, 20_002);
    },
  },
  {
    name: 'jobCounts are computed from rows, so repeats never double-count',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 5);
      const [d0, d1, d2, d3, d4] = documentIds as [string, string, string, string, string];
      const zero: JobCounts = {
        documentsTotal: 5, documentsSucceeded: 0, documentsPartial: 0, documentsFailed: 0, documentsCancelled: 0,
        pagesTotal: 0, documentsUncounted: 5, pagesDone: 0, chunksTotal: 0, chunksSucceeded: 0, chunksFailed: 0,
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
        pagesTotal: 14, documentsUncounted: 1, pagesDone: 14, chunksTotal: 3, chunksSucceeded: 2, chunksFailed: 1,
      });
      // Ended documents are never "uncounted"; a running one is until its page count is known.
      await store.updateJobDocument(jobId, d4, { status: 'running' });
      assert.equal((await store.jobCounts(jobId)).documentsUncounted, 1);
      await store.updateJobDocument(jobId, d4, { pagesTotal: 3 });
      assert.equal((await store.jobCounts(jobId)).documentsUncounted, 0);
      assert.deepEqual(await store.jobCounts('missing'), { ...zero, documentsTotal: 0, documentsUncounted: 0 });
    },
  },
  {
    name: 'putChunkProgress counts a running chunk\'s pages read until its checkpoint counts instead, never backwards, and goes with its job',
    async run({ store }) {
      const { jobId, documentIds } = await jobWithDocuments(store, 2);
      const [d0, d1] = documentIds as [string, string];
      await store.updateJobDocument(jobId, d0, { status: 'running', pagesTotal: 100, chunksTotal: 2 });
      await store.updateJobDocument(jobId, d1, { status: 'running', pagesTotal: 50, chunksTotal: 1 });
      await store.putChunkProgress(jobId, d0, 0, 7);
      await store.putChunkProgress(jobId, d0, 1, 3);
      await store.putChunkProgress(jobId, d1, 0, 20);
      assert.equal((await store.jobCounts(jobId)).pagesDone, 30);
      // A retried chunk reports fewer pages at first: the count stays.
      await store.putChunkProgress(jobId, d0, 0, 2);
      await store.putChunkProgress(jobId, d0, 0, 9);
      assert.equal((await store.jobCounts(jobId)).pagesDone, 32);
      // Chunk 0 of d0 has its checkpoint: its 50 pages count, its progress no more.
      const chunk = { jobId, documentId: d0, output: null, error: null, durationMs: 1, status: 'succeeded' as const };
      await store.putChunkResult({ ...chunk, index: 0, from: 0, to: 50 });
      const counts = await store.jobCounts(jobId);
      assert.deepEqual([counts.pagesDone, counts.chunksSucceeded], [50 + 3 + 20, 1]);
      // A late report of a chunk already checkpointed changes nothing.
      await store.putChunkProgress(jobId, d0, 0, 49);
      assert.equal((await store.jobCounts(jobId)).pagesDone, 73);
      assert.equal((await store.jobCounts('missing')).pagesDone, 0);
      // A report for a job deleted meanwhile is dropped, not an error; the job's rows are gone.
      await store.deleteJob(jobId);
      await store.putChunkProgress(jobId, d1, 0, 30);
      assert.equal((await store.jobCounts(jobId)).pagesDone, 0);
    },
  },
];

/** Registers the job-document port's contract (src/store/job-document-store.ts) against one adapter. */
export function jobDocumentStoreConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('store/job documents', name, make, cases, options);
}

// A document's end and its event are one step: a task that dies while ending its document leaves
// neither (its repeat says it, once), and the job, which closes once every document has ended,
// never has its end stored before a document's — a follower that stops at the job's end has
// every document's. Both modes.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { NewEvent, ReamEvent } from '../../src/events/types.ts';
import { adaptersOf, engineOf } from '../../src/runtime/internals.ts';
import type { DocumentEnd, JobCounts, Store } from '../../src/store/port.ts';
import { numberedPages, writePdf } from '../support/make-pdf.ts';
import { MODES, modeAvailable, withModeReam } from '../support/modes.ts';

let dir: string;
let pdfs: string[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-document-end-event-'));
  pdfs = [join(dir, 'a.pdf'), join(dir, 'b.pdf')];
  await writePdf(pdfs[0] ?? '', { pages: numberedPages('alpha', 3) });
  await writePdf(pdfs[1] ?? '', { pages: numberedPages('beta', 4) });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Runs `hook` before a document.completed is stored, however the engine stores it (with the
 * document's status or after it), and `stored` after.
 */
function aroundDocumentEvents(store: Store, hook: (event: NewEvent) => Promise<void>, stored: (event: ReamEvent) => void): void {
  const append = store.appendEvent.bind(store);
  store.appendEvent = async (event: NewEvent) => {
    if (event.type === 'document.completed') await hook(event);
    const done = await append(event);
    stored(done);
    return done;
  };
  const appendEnd = store.appendDocumentEnd.bind(store);
  store.appendDocumentEnd = async (end: DocumentEnd, event: NewEvent | ((counts: JobCounts) => NewEvent)) => {
    // An event made from the counts in the store's step is a document.completed when the document succeeded.
    const completed = typeof event === 'function' ? (end.status === 'succeeded' || end.status === 'partially_succeeded') : event.type === 'document.completed';
    if (completed) await hook({ type: 'document.completed', jobId: end.jobId, documentId: end.documentId } as NewEvent);
    const done = await appendEnd(end, event);
    if (done) stored(done);
    return done;
  };
}

for (const mode of MODES) {
  void test(`${mode}: a document whose task died while ending it gets its document.completed from the repeat, once`, { timeout: 120_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withModeReam(mode, {}, async ({ ream }) => {
      const { store } = adaptersOf(ream);
      let died: string | undefined;
      aroundDocumentEvents(store, (event) => {
        if (died !== undefined) return Promise.resolve();
        died = event.documentId;
        return Promise.reject(new Error('the worker died here'));
      }, () => undefined);
      const job = await ream.submit({ files: pdfs });
      const done = await ream.wait(job.id, { signal: AbortSignal.timeout(90_000) });
      assert.equal(done.status, 'succeeded');
      assert.ok(died !== undefined, 'a document\'s end died');
      const events = await store.listEvents(job.id, 0, 1_000);
      const completed = events.filter((e) => e.type === 'document.completed').map((e) => e.documentId).sort();
      const documents = (await store.listJobDocuments(job.id)).map((d) => d.documentId).sort();
      assert.deepEqual(completed, documents, `one document.completed per document: ${events.map((e) => `${e.seq} ${e.type} ${e.documentId ?? ''}`).join('; ')}`);
    });
  });

  void test(`${mode}: the job's end is stored after every document's, a document's event slow as it may be`, { timeout: 120_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withModeReam(mode, {}, async ({ ream }) => {
      const { store } = adaptersOf(ream);
      // The first document to end is held until the job's end is stored (or 3 s): a loaded
      // process, slow to store its document's event, while the other document's task closes the job.
      let held: string | undefined;
      let releaseHeld: () => void = () => undefined;
      const jobEnded = new Promise<void>((resolve) => { releaseHeld = resolve; });
      aroundDocumentEvents(store, async (event) => {
        held ??= event.documentId;
        if (event.documentId === held) await Promise.race([jobEnded, new Promise((resolve) => setTimeout(resolve, 3_000))]);
      }, (event) => {
        if (event.type === 'job.completed') releaseHeld();
      });
      const job = await ream.submit({ files: pdfs });
      const done = await ream.wait(job.id, { signal: AbortSignal.timeout(90_000) });
      assert.equal(done.status, 'succeeded');
      const events = await store.listEvents(job.id, 0, 1_000);
      const said = events.map((e) => `${e.seq} ${e.type} ${e.documentId ?? ''}`).join('; ');
      const end = events.find((e) => e.type === 'job.completed');
      assert.ok(end, `a job.completed: ${said}`);
      const documentEnds = events.filter((e) => e.type === 'document.completed');
      assert.equal(documentEnds.length, 2, said);
      for (const e of documentEnds) assert.ok(e.seq < end.seq, `document ${e.documentId ?? ''} ended (seq ${e.seq}) before the job (seq ${end.seq}): ${said}`);
    });
  });
}

for (const mode of MODES) {
  void test(`${mode}: a document's end event counts every document that ended before it was stored`, { timeout: 60_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withModeReam(mode, {}, async ({ ream }) => {
      const engine = engineOf(ream);
      const { store } = engine.ports;
      const job = await store.createJob({ id: randomUUID(), tenantId: 'default', key: null, pipeline: 'extract', options: {}, priority: 0 }, Date.now());
      const ids: string[] = [];
      for (const [i, name] of ['a.pdf', 'b.pdf'].entries()) {
        const sha256 = createHash('sha256').update(`${job.id}:${i}`).digest('hex');
        ids.push((await store.putDocument({ id: randomUUID(), tenantId: 'default', sha256, name, size: 10, mediaType: 'application/pdf' }, Date.now())).id);
      }
      await store.addJobDocuments(ids.map((documentId, ordinal) => ({ jobId: job.id, documentId, ordinal, source: `d${ordinal}` })));
      const [first = '', second = ''] = ids;
      const end = (documentId: string): Promise<ReamEvent | undefined> =>
        engine.emitDocumentEnd(job, { jobId: job.id, documentId, status: 'succeeded', finishedAt: Date.now() }, 'document.completed', { documentId, stage: 'complete' }, true);
      // The second document ends (another worker) after the first's task has read the job's
      // counts, before it stores its end: the first's event is stored last, and says both ended.
      const appendEnd = store.appendDocumentEnd.bind(store);
      let raced = false;
      store.appendDocumentEnd = async (ending: DocumentEnd, event: NewEvent | ((counts: JobCounts) => NewEvent)) => {
        if (!raced) {
          raced = true;
          await end(second);
        }
        return appendEnd(ending, event);
      };
      const last = await end(first);
      const events = await store.listEvents(job.id, 0);
      assert.deepEqual(events.map((e) => [e.documentId, e.progress?.documentsDone]), [[second, 1], [first, 2]], `stored: ${JSON.stringify(events.map((e) => [e.seq, e.documentId, e.progress]))}`);
      assert.equal(last?.progress?.documentsDone, 2);
    });
  });
}

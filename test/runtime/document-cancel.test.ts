import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Analyzer } from '../../src/analyzers/port.ts';
import { extractWith } from '../support/analyzers.ts';
import { numberedPages, writePdf } from '../support/make-pdf.ts';
import { MODES, modeAvailable, withModeReam } from '../support/modes.ts';

// Cancelling one document of a job, in both modes: its running chunks are aborted, its queued
// ones never run, the other document goes on, and the job ends partially_succeeded.

/** Pages reading HOLD wait until their task is aborted; others pass at once. */
function holdingAnalyzer(seen: { held: number; aborted: number; started: () => void }): Analyzer {
  return {
    name: 'holding',
    config: null,
    async analyze(pages, { signal }) {
      if (!pages.some((page) => page.text.includes('HOLD'))) return { passed: [{ value: 'yes', page: pages[0]?.page ?? 0 }] };
      seen.held++;
      seen.started();
      // Bounded, so a cancel that fails to abort fails the test instead of hanging it.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, 30_000);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          seen.aborted++;
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        }, { once: true });
      });
      return { passed: [{ value: 'late', page: pages[0]?.page ?? 0 }] };
    },
  };
}

let dir: string;
let hold: string;
let go: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-document-cancel-'));
  [hold, go] = [join(dir, 'hold.pdf'), join(dir, 'go.pdf')];
  await writePdf(hold, { pages: numberedPages('HOLD', 4) });
  await writePdf(go, { pages: numberedPages('go', 2) });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

for (const mode of MODES) {
  void describe(`cancelling one document (${mode})`, () => {
    void test('its running chunk is aborted, its queued ones never run, the other document finishes', { timeout: 60_000 }, async (t) => {
      if (!modeAvailable(t, mode)) return;
      let started!: () => void;
      const holding = new Promise<void>((resolve) => (started = resolve));
      const seen = { held: 0, aborted: 0, started };
      // Two task slots, both taken by HOLD chunks: the other document waits on the cancel.
      await withModeReam(mode, { pipelines: extractWith('holding', holdingAnalyzer(seen)), concurrency: 2 }, async ({ ream }) => {
        const job = await ream.submit({ files: [hold, go], pipeline: 'holding', options: { chunkPages: 1 } });
        await holding;
        const docs = await ream.jobDocuments(job.id);
        const held = docs.find((doc) => doc.source.endsWith('hold.pdf'));
        assert.ok(held);
        const startedAt = Date.now();
        const cancelled = await ream.cancelDocument(job.id, held.documentId);
        assert.equal(cancelled.status, 'cancelled');

        const ended = await ream.wait(job.id);
        t.diagnostic(`job ended ${Date.now() - startedAt} ms after the document's cancel`);
        assert.equal(ended.status, 'partially_succeeded');
        const view = await ream.jobView(ended);
        assert.equal(view.counts.documents.cancelled, 1);
        assert.equal(view.counts.documents.succeeded, 1);
        assert.ok(seen.aborted >= 1, 'the running HOLD chunk was aborted');
        assert.ok(seen.held < 4, `queued HOLD chunks did not run (${seen.held} ran)`);
        assert.equal(seen.held, seen.aborted, 'every HOLD chunk that started was aborted');

        const results = await Array.fromAsync(ream.results(job.id));
        // The cancelled one keeps its place, with what it read and every other page `cancelled`.
        assert.deepEqual(results.map((r) => [r.source.endsWith('go.pdf'), r.status]), [[false, 'cancelled'], [true, 'succeeded']]);
        const [cancelledOutput] = results;
        assert.equal(cancelledOutput?.error?.code, 'cancelled');
        assert.ok((cancelledOutput.failedPages.length) > 0 && cancelledOutput.failedPages.every((f) => f.code === 'cancelled'), 'unread pages: cancelled');
        assert.equal(cancelledOutput.pages.length + cancelledOutput.failedPages.length, cancelledOutput.pageCount, 'every page accounted for');
        const events = await ream.listEvents(job.id, 0, 10_000);
        const cancels = events.filter((event) => event.type === 'document.cancelled');
        assert.deepEqual(cancels.map((event) => event.documentId), [held.documentId]);
        assert.equal(events.filter((event) => event.type === 'job.completed').length, 1);

        // Ended: a second cancel changes nothing; an unknown document is not_found.
        assert.equal((await ream.cancelDocument(job.id, held.documentId)).status, 'cancelled');
        await assert.rejects(ream.cancelDocument(job.id, 'no-such-document'), { code: 'not_found' });
      });
    });

    void test('cancelling the only document ends the job cancelled', { timeout: 60_000 }, async (t) => {
      if (!modeAvailable(t, mode)) return;
      let started!: () => void;
      const holding = new Promise<void>((resolve) => (started = resolve));
      const seen = { held: 0, aborted: 0, started };
      await withModeReam(mode, { pipelines: extractWith('holding', holdingAnalyzer(seen)), concurrency: 2 }, async ({ ream }) => {
        const job = await ream.submit({ files: [hold], pipeline: 'holding', options: { chunkPages: 2 } });
        await holding;
        const [only] = await ream.jobDocuments(job.id);
        assert.ok(only);
        await ream.cancelDocument(job.id, only.documentId);
        const ended = await ream.wait(job.id);
        assert.equal(ended.status, 'cancelled');
        const types = (await ream.listEvents(job.id, 0, 10_000)).map((event) => event.type);
        assert.equal(types.filter((type) => type === 'job.cancelled').length, 1, types.join(', '));
      });
    });
  });
}

// Progress from a job's counts: documents not inspected yet weigh what the inspected ones do, so
// a job's first small document does not make it "99 %, 0 s left" and the percent does not fall
// back as the others are counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressTracker } from '../../src/runtime/progress.ts';
import type { JobCounts } from '../../src/store/port.ts';

function counts(partial: Partial<JobCounts>): JobCounts {
  return {
    documentsTotal: 0, documentsSucceeded: 0, documentsPartial: 0, documentsFailed: 0, documentsCancelled: 0,
    pagesTotal: 0, documentsUncounted: 0, pagesDone: 0, chunksTotal: 0, chunksSucceeded: 0, chunksFailed: 0, ...partial,
  };
}

test('uncounted documents weigh the average of the counted: the percent neither races to 99 nor falls back', () => {
  const tracker = new ProgressTracker();
  // Seven documents; the first (1 page) is read, five are not inspected, the last (324 pages) is.
  const early = tracker.progress('j', counts({ documentsTotal: 7, documentsSucceeded: 1, pagesTotal: 325, documentsUncounted: 5, pagesDone: 1 }), 1_000);
  assert.ok(early.percent < 5, `early: ${early.percent}`);
  assert.equal(early.documentsUncounted, 5);
  // The five are counted (a page each): the real total is far below the estimate, so the percent rises.
  const counted = tracker.progress('j', counts({ documentsTotal: 7, documentsSucceeded: 1, pagesTotal: 330, pagesDone: 6 }), 2_000);
  assert.ok(counted.percent >= early.percent, `${counted.percent} after ${early.percent}`);
  assert.equal(counted.documentsUncounted, undefined, 'absent when every document is counted');
  assert.ok((counted.etaSeconds ?? 0) > 0, 'pages are left: the ETA is not 0');
});

test('the first document read while the others are uncounted: not 99 %, and an ETA over the estimate', () => {
  const tracker = new ProgressTracker();
  tracker.progress('j', counts({ documentsTotal: 4, pagesTotal: 0, documentsUncounted: 4 }), 0);
  const after = tracker.progress('j', counts({ documentsTotal: 4, documentsSucceeded: 1, pagesTotal: 1, documentsUncounted: 3, pagesDone: 1 }), 1_000);
  assert.equal(after.percent, 25, 'one page of an estimated four');
  assert.equal(after.etaSeconds, 3, 'three estimated pages at a page a second');
});

test('documents only, and all done', () => {
  const tracker = new ProgressTracker();
  assert.equal(tracker.progress('a', counts({ documentsTotal: 4, documentsFailed: 1, documentsUncounted: 3 }), 0).percent, 25);
  const done = tracker.progress('b', counts({ documentsTotal: 2, documentsSucceeded: 2, pagesTotal: 5, pagesDone: 5 }), 0);
  assert.deepEqual([done.percent, done.etaSeconds, done.documentsUncounted], [100, 0, undefined]);
});

test('a job ended by cancellation says how much of it was read, not 100 %', () => {
  const tracker = new ProgressTracker();
  const cancelled = tracker.progress('c', counts({ documentsTotal: 2, documentsSucceeded: 1, documentsCancelled: 1, pagesTotal: 325, pagesDone: 1 }), 0);
  assert.equal(cancelled.percent, 0.3);
  assert.equal(cancelled.etaSeconds, 0, 'nothing more will be read');
  const uncounted = tracker.progress('d', counts({ documentsTotal: 4, documentsSucceeded: 1, documentsCancelled: 3 }), 0);
  assert.equal(uncounted.percent, 25);
  assert.equal(tracker.progress('e', counts({ documentsTotal: 1, documentsSucceeded: 1, pagesTotal: 3, pagesDone: 3 }), 0).percent, 100);
});

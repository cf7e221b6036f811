import assert from 'node:assert/strict';
import type { ReamClient } from '../../src/client/index.ts';
import type { ReamEvent } from '../../src/events/types.ts';

/** Polls `probe` until it returns something, or fails with `explain()` after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, explain: () => string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(explain());
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Exactly once, checked from the outside: every document succeeded with each of its pages once
 * and in order, the analyzer's per-chunk fields cover every page once (no chunk lost or merged
 * twice), the job counts every chunk as succeeded, and each document and the job ended once.
 */
export async function checkBatch(client: ReamClient, jobId: string, events: readonly ReamEvent[], documents: number): Promise<void> {
  const results = await client.results(jobId);
  assert.equal(results.length, documents);
  for (const doc of results) {
    assert.equal(doc.status, 'succeeded', `${doc.source}: ${JSON.stringify(doc.error)}`);
    assert.ok(doc.pageCount !== null && doc.pageCount > 0);
    assert.deepEqual(doc.pages.map((p) => p.page), Array.from({ length: doc.pageCount }, (_, i) => i + 1), `${doc.source}: pages`);
    const perChunk = (doc.fields.pagesSeen ?? []).map((f) => Number(f.value));
    assert.equal(perChunk.reduce((a, b) => a + b, 0), doc.pageCount, `${doc.source}: analyzed pages`);
  }
  const view = await client.getJob(jobId);
  assert.equal(view.counts.chunks.failed, 0);
  assert.equal(view.counts.chunks.succeeded, view.counts.chunks.total);
  const ended = (type: string): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const e of events) if (e.type === type) counts.set(e.documentId ?? '', (counts.get(e.documentId ?? '') ?? 0) + 1);
    return counts;
  };
  const completed = ended('document.completed');
  assert.equal(completed.size, documents, 'a document.completed per document');
  for (const [documentId, n] of completed) assert.equal(n, 1, `document ${documentId} completed ${n} times`);
  assert.equal(events.filter((e) => e.type === 'job.completed').length, 1);
  assert.deepEqual(events.map((e) => e.seq), Array.from({ length: events.length }, (_, i) => i + 1), 'gapless seq');
  const running = await client.listJobs({ status: 'running' });
  assert.equal(running.items.length, 0, 'no job left running');
}

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

/** Events in short: `seq type doc…tail[#chunk@attempt]`, a line per ten. */
export function eventSummary(events: readonly ReamEvent[]): string {
  const one = (e: ReamEvent): string =>
    `${e.seq} ${e.type}${e.documentId ? ` …${e.documentId.slice(-6)}` : ''}${e.chunk ? `#${e.chunk.index}` : ''}${e.attempt === undefined ? '' : `@${e.attempt}`}`;
  const lines: string[] = [];
  for (let i = 0; i < events.length; i += 10) lines.push(events.slice(i, i + 10).map(one).join('; '));
  return lines.join('\n');
}

/**
 * Exactly once, checked from the outside: every document succeeded with each of its pages once
 * and in order, the analyzer's per-chunk fields cover every page once (no chunk lost or merged
 * twice), the job counts every chunk as succeeded, and each document and the job ended once.
 * A failure says what was followed and what the store holds (a second replay, after the end),
 * which tells a stream that missed an event from a store that never had it, and `output()` (the
 * cluster's processes' output).
 */
export async function checkBatch(client: ReamClient, jobId: string, events: readonly ReamEvent[], documents: number, output: () => string = () => ''): Promise<void> {
  const stored: ReamEvent[] = [];
  const replay = await (async () => {
    for await (const event of client.events(jobId, { signal: AbortSignal.timeout(30_000) })) stored.push(event);
  })().then(() => '', (error: unknown) => ` (the replay stopped: ${error instanceof Error ? error.message : String(error)})`);
  const results = await client.results(jobId);
  const view = await client.getJob(jobId);
  const context = (): string => [
    `job ${jobId} ${view.status}, ${results.length} result(s): ${results.map((doc) => `${doc.source} …${doc.documentId.slice(-6)} ${doc.status} ${doc.pageCount ?? '?'}p`).join(', ')}`,
    `counts: ${JSON.stringify(view.counts)}`,
    `followed (${events.length}):\n${eventSummary(events)}`,
    `stored (${stored.length})${replay}:\n${eventSummary(stored)}`,
    output(),
  ].join('\n');
  assert.equal(results.length, documents, `results\n${context()}`);
  for (const doc of results) {
    assert.equal(doc.status, 'succeeded', `${doc.source}: ${JSON.stringify(doc.error)}\n${context()}`);
    assert.ok(doc.pageCount !== null && doc.pageCount > 0, `${doc.source}: no pages\n${context()}`);
    assert.deepEqual(doc.pages.map((p) => p.page), Array.from({ length: doc.pageCount }, (_, i) => i + 1), `${doc.source}: pages\n${context()}`);
    const perChunk = (doc.fields.pagesSeen ?? []).map((f) => Number(f.value));
    assert.equal(perChunk.reduce((a, b) => a + b, 0), doc.pageCount, `${doc.source}: analyzed pages ${JSON.stringify(perChunk)}\n${context()}`);
  }
  assert.equal(view.counts.chunks.failed, 0, `failed chunks\n${context()}`);
  assert.equal(view.counts.chunks.succeeded, view.counts.chunks.total, `succeeded chunks\n${context()}`);
  const ended = (type: string): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const e of events) if (e.type === type) counts.set(e.documentId ?? '', (counts.get(e.documentId ?? '') ?? 0) + 1);
    return counts;
  };
  const completed = ended('document.completed');
  assert.equal(completed.size, documents, `a document.completed per document\n${context()}`);
  for (const [documentId, n] of completed) assert.equal(n, 1, `document ${documentId} completed ${n} times\n${context()}`);
  assert.equal(events.filter((e) => e.type === 'job.completed').length, 1, `one job.completed\n${context()}`);
  assert.deepEqual(events.map((e) => e.seq), Array.from({ length: events.length }, (_, i) => i + 1), `gapless seq\n${context()}`);
  const running = await client.listJobs({ status: 'running' });
  assert.equal(running.items.length, 0, `no job left running: ${running.items.map((job) => job.id).join(', ')}\n${context()}`);
}

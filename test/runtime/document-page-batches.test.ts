// `documentPageBatches` from after a page (a writer that has the rows before it), and only what
// is final while the job runs (`finishedOnly`): the succeeded checkpoints that follow without a
// gap, never a chunk not stored yet nor a failed one, which the job may still retry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asJson } from '../../src/json.ts';
import { packChunk } from '../../src/pipeline/merge.ts';
import { documentPageBatches, type PageBatchOptions } from '../../src/runtime/document-pages.ts';
import type { ChunkResultRecord, ChunkStateRecord } from '../../src/store/job-document-store.ts';

/** A succeeded checkpoint of pages `from + 1`–`to`, as a packed rows chunk is stored. */
function succeeded(index: number, from: number, to: number): ChunkResultRecord {
  const pages = Array.from({ length: to - from }, (_, i) => ({ page: from + i + 1, text: `row ${from + i + 1}`, cells: { n: from + i + 1 } }));
  return { jobId: 'j', documentId: 'd', index, from, to, status: 'succeeded', output: asJson(packChunk({ pages, failures: [], fields: {} })), error: null, durationMs: 1 };
}

function failed(index: number, from: number, to: number): ChunkResultRecord {
  return { jobId: 'j', documentId: 'd', index, from, to, status: 'failed', output: null, error: { code: 'internal', message: 'boom' }, durationMs: 1 };
}

/** The checkpoints of a job in its store's shape (`listChunkStates` in index order). */
function checkpoints(records: ChunkResultRecord[]) {
  return {
    listChunkStates: (): Promise<ChunkStateRecord[]> => Promise.resolve(records.map(({ index, from, to, status }) => ({ index, from, to, status }))),
    getChunkResult: (_job: string, _doc: string, index: number): Promise<ChunkResultRecord | undefined> => Promise.resolve(records.find((r) => r.index === index)),
  };
}

/** Each batch as its page numbers, and whether the page failed. */
async function batches(records: ChunkResultRecord[], pagesTotal: number, options: PageBatchOptions): Promise<string[][]> {
  const seen: string[][] = [];
  for await (const pages of documentPageBatches(checkpoints(records), 'j', 'd', pagesTotal, undefined, options)) {
    seen.push(pages.map((page) => `${page.page}${page.failure ? '!' : ''}`));
  }
  return seen;
}

test('finishedOnly: the succeeded checkpoints right after `after`, up to the first gap or failed chunk', async () => {
  // Chunk 2 (pages 5–6) not stored yet; chunk 3 done.
  const running = [succeeded(0, 0, 2), succeeded(1, 2, 4), succeeded(3, 6, 8)];
  assert.deepEqual(await batches(running, 8, { finishedOnly: true }), [['1', '2'], ['3', '4']]);
  assert.deepEqual(await batches(running, 8, { finishedOnly: true, after: 2 }), [['3', '4']]);
  assert.deepEqual(await batches(running, 8, { finishedOnly: true, after: 4 }), [], 'nothing past the gap');
  // A failed chunk may be retried: it stops the follower too.
  const withFailure = [succeeded(0, 0, 2), failed(1, 2, 4), succeeded(2, 4, 6)];
  assert.deepEqual(await batches(withFailure, 6, { finishedOnly: true }), [['1', '2']]);
});

test('after: the pages past it, gaps and failed chunks as failed pages, as a read from the start gives them', async () => {
  const ended = [succeeded(0, 0, 2), failed(1, 2, 4), succeeded(3, 6, 8)];
  const all = await batches(ended, 9, {});
  assert.deepEqual(all, [['1', '2'], ['3!', '4!'], ['5!', '6!'], ['7', '8'], ['9!']]);
  assert.deepEqual(await batches(ended, 9, { after: 2 }), all.slice(1));
  assert.deepEqual(await batches(ended, 9, { after: 4 }), all.slice(2), 'a gap after `after` is still reported');
  assert.deepEqual(await batches(ended, 9, { after: 8 }), [['9!']]);
});

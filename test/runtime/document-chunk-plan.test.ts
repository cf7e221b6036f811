// A document's chunks, once its inspection recorded them, are planned alike by every later step
// (a repeat, the merge, a cancelled document's output), whatever this version would plan anew.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asJson } from '../../src/json.ts';
import { planChunks } from '../../src/pipeline/chunk-planner.ts';
import { documentChunkPages, inspectedChunkPages } from '../../src/runtime/document-output.ts';

const wide = { metadata: { columns: Array.from({ length: 10_000 }, (_, i) => `c${i}`) } };

test('an inspected document is planned in the chunks its inspection recorded, even where the table rule would now plan others', () => {
  const pipeline = { chunkPages: 2_000 };
  assert.equal(documentChunkPages(pipeline, wide.metadata), 100, 'anew: 100 rows of 10,000 columns a chunk');
  // Inspected by a version that planned a chunk of the pipeline's 2,000 rows: 1 chunk of 1,500.
  const recorded = { info: asJson(wide), pagesTotal: 1_500, chunksTotal: 1 };
  assert.deepEqual(planChunks(1_500, inspectedChunkPages(pipeline, recorded)), [{ index: 0, from: 0, to: 1_500 }]);
  // The recorded count is found again for every plan planChunks makes.
  for (const [pages, chunkPages] of [[1_500, 100], [101, 100], [10, 3], [99_999, 2_000], [7, 7]] as const) {
    const plan = planChunks(pages, chunkPages);
    assert.deepEqual(planChunks(pages, inspectedChunkPages(pipeline, { info: null, pagesTotal: pages, chunksTotal: plan.length })), plan);
  }
  assert.equal(inspectedChunkPages(pipeline, { info: asJson(wide), pagesTotal: null, chunksTotal: null }), 100, 'not inspected: planned anew');
});

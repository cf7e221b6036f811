import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asJson } from '../../src/json.ts';
import { ChunkMerger, mergeChunks, packChunk, unpackChunk, type ChunkOutput, type PackedChunkOutput } from '../../src/pipeline/merge.ts';
import type { ChunkResultRecord } from '../../src/store/port.ts';

function chunk(index: number, from: number, to: number, output: ChunkOutput | PackedChunkOutput | null): ChunkResultRecord {
  return {
    jobId: 'j', documentId: 'd', index, from, to, durationMs: 1,
    status: output ? 'succeeded' : 'failed',
    output: output ? asJson(output) : null,
    error: output ? null : { code: 'timeout', message: 'too slow' },
  };
}

test('merges chunks in page order whatever order they finished in', () => {
  const merged = mergeChunks([
    chunk(1, 2, 4, { pages: [{ page: 3, text: 'c' }, { page: 4, text: 'd' }], failures: [], fields: { total: [{ value: '9', page: 4 }] } }),
    chunk(0, 0, 2, { pages: [{ page: 1, text: 'a' }, { page: 2, text: 'b' }], failures: [], fields: { total: [{ value: '5', page: 1 }] } }),
  ]);
  assert.deepEqual(merged.pages.map((p) => p.text), ['a', 'b', 'c', 'd']);
  assert.deepEqual(merged.fields.total?.map((m) => m.page), [1, 4]);
  assert.deepEqual(merged.failedPages, []);
});

test('a failed chunk accounts for each of its pages with its error', () => {
  const merged = mergeChunks([
    chunk(0, 0, 2, { pages: [{ page: 1, text: 'a' }], failures: [{ page: 2, code: 'invalid_pdf', message: 'bad page' }], fields: {} }),
    chunk(1, 2, 5, null),
  ]);
  assert.deepEqual(merged.pages.map((p) => p.page), [1]);
  assert.deepEqual(merged.failedPages.map((f) => [f.page, f.code]), [[2, 'invalid_pdf'], [3, 'timeout'], [4, 'timeout'], [5, 'timeout']]);
});

test('a chunk of 400,000 pages that failed merges (its failures are not pushed as arguments)', () => {
  const merged = mergeChunks([chunk(0, 0, 400_000, null)]);
  assert.equal(merged.failedPages.length, 400_000);
  assert.deepEqual(merged.failedPages.at(-1), { page: 400_000, code: 'timeout', message: 'too slow' });
});

test('a planned chunk without any checkpoint is reported as failed pages, not dropped', () => {
  const plan = [{ index: 0, from: 0, to: 2 }, { index: 1, from: 2, to: 4 }];
  const merged = mergeChunks([chunk(0, 0, 2, { pages: [{ page: 1, text: 'a' }, { page: 2, text: 'b' }], failures: [], fields: {} })], plan);
  assert.deepEqual(merged.pages.map((p) => p.page), [1, 2]);
  assert.deepEqual(merged.failedPages.map((f) => [f.page, f.code]), [[3, 'internal'], [4, 'internal']]);
});

test('page warnings are gathered in page order; checkpoints without any merge as before', () => {
  const needsOcr = (page: number) => ({ page, code: 'needs_ocr' as const, message: 'image page, OCR off' });
  const merged = mergeChunks([
    chunk(1, 2, 4, { pages: [{ page: 3, text: '' }, { page: 4, text: '' }], failures: [], warnings: [needsOcr(4), needsOcr(3)], fields: {} }),
    chunk(0, 0, 2, { pages: [{ page: 1, text: 'a' }, { page: 2, text: 'b' }], failures: [], fields: {} }),
  ]);
  assert.deepEqual(merged.warnings.map((w) => [w.page, w.code]), [[3, 'needs_ocr'], [4, 'needs_ocr']]);
  assert.deepEqual(mergeChunks([chunk(0, 0, 1, { pages: [{ page: 1, text: 'a' }], failures: [], fields: {} })]).warnings, []);
});

test('a packed checkpoint merges as the plain one; without kept pages its rows are never parsed', () => {
  const outputs: ChunkOutput[] = [
    { pages: [{ page: 1, text: 'a' }, { page: 2, text: 'b' }], failures: [], fields: { total: [{ value: '5', page: 1 }], none: [] } },
    { pages: [{ page: 3, text: 'c' }], failures: [{ page: 4, code: 'invalid_sheet', message: 'ragged' }], warnings: [{ page: 3, code: 'no_text_found', message: 'w' }], fields: { total: [], none: [] } },
  ];
  const packed = outputs.map(packChunk);
  assert.deepEqual(packed.map(unpackChunk), outputs, 'unpacking gives back what was packed');
  const plain = mergeChunks([chunk(0, 0, 2, outputs[0]!), chunk(1, 2, 4, outputs[1]!)]);
  assert.deepEqual(mergeChunks([chunk(0, 0, 2, packed[0]!), chunk(1, 2, 4, packed[1]!)]), plain);

  // Not keeping pages (a long table): the body is not read at all, so a broken one does no harm.
  const merger = new ChunkMerger(false);
  for (const [i, stored] of packed.entries()) merger.add(chunk(i, i * 2, i * 2 + 2, { ...stored, body: 'not json' }));
  const merged = merger.result();
  assert.equal(merged.pagesRead, 3);
  assert.deepEqual(Object.keys(merged.fields), ['total', 'none']);
  assert.deepEqual(merged.failedPages.map((f) => f.page), [4]);
  assert.deepEqual(merged.warnings.map((w) => w.page), [3]);
});

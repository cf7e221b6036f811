// A checkpoint with some rows made again: the redone rows' text, matches, failures, report
// entries are replaced; every other row's stay as stored; tokens add up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pagesToRedo, replacePages } from '../../src/pipeline/chunk-redo.ts';
import type { ChunkOutput } from '../../src/pipeline/merge.ts';

const usage = (calls: number): { promptTokens: number; completionTokens: number; calls: number; cachedCalls: number } => ({ promptTokens: 10 * calls, completionTokens: calls, calls, cachedCalls: 0 });

const kept: ChunkOutput = {
  pages: [1, 2, 3, 4].map((page) => ({ page, text: `row ${page}` })),
  failures: [{ page: 2, code: 'llm_invalid_output', message: 'bad' }, { page: 4, code: 'template_render_failed', message: 'no' }],
  warnings: [{ page: 2, code: 'needs_ocr', message: 'long' }],
  fields: { grape: [{ page: 1, value: 'Merlot' }, { page: 3, value: 'Syrah' }] },
  analyses: { llm: { usage: usage(4) }, reports: { data: [{ row: 1, name: 'r1' }, { row: 3, name: 'r3' }] } },
};

void test('pagesToRedo: the failed pages, once each, in order; only those asked when a list is given', () => {
  assert.deepEqual(pagesToRedo({ failures: [{ page: 4, code: 'invalid_sheet', message: '' }, { page: 2, code: 'invalid_sheet', message: '' }, { page: 2, code: 'llm_refused', message: '' }] }), [2, 4]);
  assert.deepEqual(pagesToRedo(kept, [4, 9]), [4], 'a page that no longer fails is not redone');
  assert.deepEqual(pagesToRedo({ failures: [] }), []);
});

void test('replacePages: redone rows replaced, the rest as stored, in row order', () => {
  const fresh: ChunkOutput = {
    pages: [{ page: 2, text: 'row 2' }, { page: 4, text: 'row 4' }],
    failures: [{ page: 4, code: 'template_render_failed', message: 'still no' }],
    fields: { grape: [{ page: 2, value: 'Riesling' }], score: [{ page: 2, value: '90' }] },
    analyses: { llm: { usage: usage(1) }, reports: { data: [{ row: 2, name: 'r2' }] } },
  };
  const merged = replacePages(kept, fresh, new Set([2, 4]));
  assert.deepEqual(merged.pages.map((page) => page.page), [1, 2, 3, 4]);
  assert.deepEqual(merged.failures, [{ page: 4, code: 'template_render_failed', message: 'still no' }]);
  assert.equal(merged.warnings, undefined, 'row 2\'s old warning went with its old result');
  assert.deepEqual(merged.fields, {
    grape: [{ page: 1, value: 'Merlot' }, { page: 2, value: 'Riesling' }, { page: 3, value: 'Syrah' }],
    score: [{ page: 2, value: '90' }],
  });
  assert.deepEqual(merged.analyses?.llm?.usage, usage(5), 'both attempts were spent');
  assert.deepEqual(merged.analyses?.reports?.data, [{ row: 1, name: 'r1' }, { row: 2, name: 'r2' }, { row: 3, name: 'r3' }]);
});

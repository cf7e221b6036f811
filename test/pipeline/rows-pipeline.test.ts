import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_OCR } from '../../src/formats/ocr/ocr-options.ts';
import type { PageText } from '../../src/formats/types.ts';
import { PipelineRegistry } from '../../src/pipeline/registry.ts';
import { DEFAULT_MAX_ROWS, DEFAULT_ROWS_PER_TASK, DEFAULT_SLOW_ROWS_PER_TASK } from '../../src/pipeline/rows-pipeline.ts';
import { ReamError } from '../../src/errors.ts';
import type { JsonObject } from '../../src/json.ts';

const registry = new PipelineRegistry();
const row = (page: number, text: string): PageText => ({ page, text });

void test('rows: row batches and a row limit of its own, overridable; a sheet by name; unknown options refused', () => {
  const plain = registry.build('rows', {});
  assert.equal(plain.chunkPages, DEFAULT_ROWS_PER_TASK);
  // Rules are cheap per row: big batches. A report per row is slow: small ones, so rows spread over the threads.
  assert.equal(registry.build('rows', { rules: [{ name: 'n', pattern: String.raw`\d+` }] }).chunkPages, DEFAULT_ROWS_PER_TASK);
  assert.equal(registry.build('rows', { template: '<p>{{ name }}</p>' }).chunkPages, DEFAULT_SLOW_ROWS_PER_TASK);
  assert.ok(DEFAULT_SLOW_ROWS_PER_TASK < DEFAULT_ROWS_PER_TASK);
  assert.equal(plain.limits.maxPages, DEFAULT_MAX_ROWS);
  // Rules alone (or nothing) run in the reading thread; a template or a model keeps the general path.
  const rules = [{ name: 'n', pattern: String.raw`\d+` }];
  assert.deepEqual(plain.rowRules, []);
  assert.deepEqual(registry.build('rows', { rules }).rowRules, rules);
  assert.equal(registry.build('rows', { rules, template: '<p>{{ name }}</p>' }).rowRules, undefined);
  // PDFs among the inputs read as with `extract`, OCR options included; tables as rows, not sheets.
  const extractRead = { ...registry.build('extract', {}).read, tablePages: 'rows' };
  assert.equal(registry.build('extract', {}).read?.tablePages, 'sheets');
  assert.deepEqual(plain.read, extractRead);
  assert.deepEqual(plain.read?.ocr, DEFAULT_OCR);
  const set = registry.build('rows', { chunkPages: 25, maxPages: 1000, sheet: 'Orders' });
  assert.deepEqual([set.chunkPages, set.limits.maxPages, set.read], [25, 1000, { ...extractRead, sheet: 'Orders' }]);
  for (const options of [{ sheet: 3 }, { sheet: '' }, { sheets: 'Orders' }] as JsonObject[]) {
    assert.throws(() => registry.build('rows', options), (error: unknown) => error instanceof ReamError && error.code === 'validation_failed');
  }
});

void test('rows: the rules run on each row alone, so every row has its own first match and nothing is reduced away', async () => {
  const pipeline = registry.build('rows', { rules: [{ name: 'total', pattern: String.raw`total: (\d+)` }] });
  const [analyzer] = pipeline.analyzers;
  assert.ok(analyzer);
  const pages = [row(1, 'total: 10\ntotal: 11'), row(2, 'none here'), row(3, 'total: 30')];
  const fields = await analyzer.analyze(pages, { signal: new AbortController().signal, documentId: 'd' });
  assert.deepEqual(fields.total, [{ value: '10', page: 1 }, { value: '30', page: 3 }], 'first match per row, rows without one have none');
  assert.equal('reduce' in analyzer, false, 'no document-wide first-match reduce');
  // The plain rules pipeline, for contrast, keeps one match per chunk.
  const chunkWide = await registry.build('rules', { rules: [{ name: 'total', pattern: String.raw`total: (\d+)` }] }).analyzers[0]?.analyze(pages, { signal: new AbortController().signal, documentId: 'd' });
  assert.deepEqual(chunkWide?.total, [{ value: '10', page: 1 }]);
});

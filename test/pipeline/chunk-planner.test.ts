import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planChunks } from '../../src/pipeline/chunk-planner.ts';

test('chunks cover every page once, in order, balanced', () => {
  for (const [pages, size] of [[1, 50], [50, 50], [51, 50], [100, 32], [528, 50], [7, 3]] as const) {
    const chunks = planChunks(pages, size);
    assert.equal(chunks[0]?.from, 0);
    assert.equal(chunks.at(-1)?.to, pages);
    for (let i = 1; i < chunks.length; i++) assert.equal(chunks[i]?.from, chunks[i - 1]?.to);
    const sizes = chunks.map((c) => c.to - c.from);
    assert.ok(Math.max(...sizes) <= size, `no chunk above ${size}`);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `balanced: ${sizes.join(',')}`);
    assert.deepEqual(chunks.map((c) => c.index), chunks.map((_, i) => i));
  }
});

test('100 pages at 32 make four chunks of 25, not a runt', () => {
  assert.deepEqual(planChunks(100, 32).map((c) => c.to - c.from), [25, 25, 25, 25]);
});

test('no pages, no chunks; a bad chunk size is refused', () => {
  assert.deepEqual(planChunks(0, 10), []);
  assert.throws(() => planChunks(10, 0), RangeError);
});

// The rows view's order over rows given in memory: how values compare (numbers as numbers, text
// numeric-aware, empty cells last both ways), what a filter looks in, and the sort's row limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DocumentPageResult } from '../../src/api-types.ts';
import { ReamError } from '../../src/errors.ts';
import { MAX_SORTED_ROWS, orderRows, parseRowColumn, rowOrder } from '../../src/exports/row-view.ts';
import type { CellValue } from '../../src/formats/types.ts';

function row(page: number, cells: Record<string, CellValue>, extra: Partial<DocumentPageResult> = {}): DocumentPageResult {
  return { page, read: { page, text: '', cells }, fields: {}, ...extra };
}

const ROWS = [
  row(1, { v: 'b10' }),
  row(2, { v: '9' }),
  row(3, { v: null }),
  row(4, { v: 'B2' }),
  row(5, { v: 10 }),
  row(6, { v: '  ' }),
  row(7, { v: 'a' }, { fields: { total: [{ value: '7', page: 7 }] }, failure: { page: 7, code: 'invalid_sheet', message: 'one cell too many' } }),
];

const order = async (query: Parameters<typeof rowOrder>[0]): Promise<number[]> => {
  const checked = rowOrder(query);
  assert.ok(checked);
  return Array.from(await orderRows(ROWS, checked));
};

test('numbers (and numeric text) first as numbers, then text numeric-aware and case-blind, empty cells last both ways', async () => {
  assert.deepEqual(await order({ sort: 'cells.v' }), [2, 5, 7, 4, 1, 3, 6]);
  assert.deepEqual(await order({ sort: 'cells.v', order: 'desc' }), [5, 2, 1, 4, 7, 3, 6]);
  assert.deepEqual(await order({ sort: 'row', order: 'desc' }), [7, 6, 5, 4, 3, 2, 1]);
  assert.deepEqual(await order({ sort: 'error' }), [7, 1, 2, 3, 4, 5, 6], 'rows without a failure are empty: last, in row order');
});

test('a filter looks in one column, a field, the failure, or anywhere; case ignored', async () => {
  assert.deepEqual(await order({ filter: 'B', filterBy: 'cells.v' }), [1, 4]);
  assert.deepEqual(await order({ filter: '7', filterBy: 'fields.total' }), [7]);
  assert.deepEqual(await order({ filter: 'CELL TOO', filterBy: 'error' }), [7]);
  assert.deepEqual(await order({ filter: '10' }), [1, 5], 'any column: cells, fields, failure and the row number');
  assert.deepEqual(await order({ filter: 'b', filterBy: 'cells.v', sort: 'cells.v', order: 'desc' }), [1, 4]);
  assert.equal(rowOrder({}), undefined, 'no sort, no filter: rows stay in their order');
});

test('unknown columns and a column without text are refused with validation_failed', () => {
  for (const name of ['v', 'cells.', 'fields.', 'page']) {
    assert.throws(() => parseRowColumn(name), (error: unknown) => error instanceof ReamError && error.code === 'validation_failed', name);
  }
  assert.throws(() => rowOrder({ filterBy: 'cells.v' }), (error: unknown) => error instanceof ReamError && error.code === 'validation_failed');
});

test(`a sort of more than ${MAX_SORTED_ROWS} rows is refused (resource_limit); a filter alone is not`, async () => {
  function* many(): Generator<DocumentPageResult> {
    for (let page = 1; page <= MAX_SORTED_ROWS + 1; page++) yield { page, fields: {} };
  }
  const sort = rowOrder({ sort: 'row' });
  assert.ok(sort);
  await assert.rejects(orderRows(many(), sort), (error: unknown) => error instanceof ReamError && error.code === 'resource_limit');
  const filter = rowOrder({ filter: '1' });
  assert.ok(filter);
  assert.ok((await orderRows(many(), filter)).length > 0);
});

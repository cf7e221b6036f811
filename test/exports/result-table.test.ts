// The download table's layout: a job mixing a table and a PDF gets the union of their columns;
// a document that failed before any page was read still has a row that says why.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DocumentPageResult } from '../../src/api-types.ts';
import { jobTable, documentTable } from '../../src/exports/result-table.ts';
import type { CellValue } from '../../src/formats/types.ts';
import type { DocumentOutput } from '../../src/pipeline/types.ts';

function output(documentId: string, source: string, extra: Partial<DocumentOutput>): DocumentOutput {
  return {
    documentId, source, sha256: '', size: 1, mediaType: null, status: 'succeeded', pageCount: null, metadata: null,
    pages: [], fields: {}, failedPages: [], error: null, ...extra,
  };
}

const TABLE = output('t', 'orders.csv', { metadata: { columns: ['id', 'note'] }, fields: { flag: [] } });
const PDF = output('p', 'scan.pdf', { fields: { total: [{ value: '9', page: 1 }] } });
const BROKEN = output('x', 'broken.pdf', { status: 'failed', error: { code: 'invalid_pdf', message: 'no xref', retryable: false } });

const PAGES: Record<string, DocumentPageResult[]> = {
  t: [
    { page: 1, read: { page: 1, text: 'id: 1', cells: { id: 1, note: 'urgent' } }, fields: { flag: [{ value: 'urgent', page: 1 }] } },
    { page: 2, fields: {}, failure: { page: 2, code: 'invalid_sheet', message: 'one cell too many' } },
  ],
  p: [{ page: 1, read: { page: 1, text: 'Total 9' }, fields: { total: [{ value: '9', page: 1 }, { value: '10', page: 1 }] } }],
};

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield await Promise.resolve(item);
}

async function all(rows: AsyncIterable<CellValue[]>): Promise<CellValue[][]> {
  return Array.fromAsync(rows);
}

test('a job of a table, a PDF and a broken file: the union of columns, a row per page, a row for the failed file', async () => {
  const table = await jobTable({ outputs: () => from([TABLE, PDF, BROKEN]), pages: (id) => from(PAGES[id] ?? []) });
  assert.deepEqual(table.header, ['document', 'page', 'id', 'note', 'text', 'flag', 'total', 'error_code', 'error_message']);
  assert.deepEqual(await all(table.rows), [
    ['orders.csv', 1, 1, 'urgent', null, 'urgent', null, null, null],
    ['orders.csv', 2, null, null, null, null, null, 'invalid_sheet', 'one cell too many'],
    ['scan.pdf', 1, null, null, 'Total 9', null, '9; 10', null, null],
    ['broken.pdf', null, null, null, null, null, null, 'invalid_pdf', 'no xref'],
  ]);
});

test('a table alone numbers its rows as "row"; a field named like a column gets a suffix', async () => {
  const clash = { ...TABLE, fields: { note: [] } };
  const table = documentTable(clash, from(PAGES.t ?? []));
  assert.deepEqual(table.header, ['row', 'id', 'note', 'note_2', 'error_code', 'error_message']);
  assert.equal((await all(table.rows)).length, 2);
});

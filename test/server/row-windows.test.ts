// Windows of a 30,000-row table over HTTP (`GET …/pages?offset=&limit=&sort=&filter=`, SDK
// `documentRows`): a window is read from the checkpoints that hold it only, a sort and a filter
// are done by the server over every row, and their windows agree with the rows themselves.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { ReamError, type ErrorCode } from '../../src/errors.ts';
import { documentPages } from '../../src/runtime/document-pages.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { toCsv } from '../formats/sheet-files.ts';
import { issueTenantKeys } from '../support/tenant-keys.ts';

const ROWS = 30_000;
const CHUNK_ROWS = 2_000;
const RAGGED_ROW = 7_777;
const CITIES = ['Oslo', 'Lima', 'Quito', 'Riga', 'Bern'];
/** A scrambled amount per row (a permutation of 0…ROWS-1), so a sort by it is no row order. */
const amountOf = (i: number): number => (i * 7_919) % ROWS;
const cityOf = (i: number): string => (i === 12_345 ? 'Zanzibar' : CITIES[i % CITIES.length] ?? '');

const withCode = (code: ErrorCode) => (error: unknown): boolean => error instanceof ReamError && error.code === code;

let dir: string;
let ream: Ream;
let server: RunningServer;
let owner: ReamClient;
let other: ReamClient;
let jobId: string;
let documentId: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-row-windows-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
  const keys = await issueTenantKeys(ream);
  owner = new ReamClient({ baseUrl: server.url, apiKey: keys.a });
  other = new ReamClient({ baseUrl: server.url, apiKey: keys.b });
  const rows = Array.from({ length: ROWS }, (_, index) => {
    const i = index + 1;
    return [`Item ${i}`, cityOf(i), String(amountOf(i)), i % 10 === 0 ? `code C-${i}` : ''];
  });
  rows[RAGGED_ROW - 1] = [...(rows[RAGGED_ROW - 1] ?? []), 'one cell too many'];
  const csv = join(dir, 'long.csv');
  await writeFile(csv, toCsv([['name', 'city', 'amount', 'note'], ...rows]));
  const job = await owner.submit({ pipeline: 'rows', options: { rules: [{ name: 'code', pattern: String.raw`C-(\d+)`, group: 1 }], chunkPages: CHUNK_ROWS }, files: [csv] });
  jobId = job.id;
  assert.equal((await owner.wait(jobId)).status, 'partially_succeeded', 'the ragged row failed alone');
  documentId = (await ream.jobDocuments(jobId))[0]?.documentId ?? '';
});
after(async () => {
  await server?.close();
  await ream?.close();
  await rm(dir, { recursive: true, force: true });
});

describe(`a window of a ${ROWS}-row table`, () => {
  test('rows 5,001–5,200 come with their cells and fields, and the total', async () => {
    const window = await owner.documentRows(jobId, documentId, { offset: 5_000, limit: 200 });
    assert.equal(window.total, ROWS);
    assert.deepEqual(window.rows.map((row) => row.page), Array.from({ length: 200 }, (_, i) => 5_001 + i));
    const first = window.rows[0];
    assert.deepEqual(first?.read?.cells, { name: 'Item 5001', city: cityOf(5_001), amount: String(amountOf(5_001)), note: '' });
    assert.deepEqual(window.rows[9]?.fields.code?.map((match) => match.value), ['5010'], 'the field of row 5,010');
    const last = await owner.documentRows(jobId, documentId, { offset: ROWS - 3, limit: 200 });
    assert.deepEqual(last.rows.map((row) => row.page), [ROWS - 2, ROWS - 1, ROWS], 'a window past the end is cut short');
    assert.deepEqual((await owner.documentRows(jobId, documentId, { offset: ROWS })).rows, []);
  });

  test('only the checkpoints holding the window are read', async () => {
    const store = adaptersOf(ream).store;
    const read: number[] = [];
    const counting = {
      listChunkStates: store.listChunkStates.bind(store),
      getChunkResult: async (job: string, doc: string, index: number) => {
        read.push(index);
        return store.getChunkResult(job, doc, index);
      },
    };
    const pages = Array.from({ length: 200 }, (_, i) => 5_901 + i); // rows 5,901–6,100: chunks 2 and 3
    const rows = [];
    for await (const row of documentPages(counting, jobId, documentId, ROWS, { pages })) rows.push(row.page);
    assert.deepEqual(rows, pages);
    assert.deepEqual(read, [2, 3]);
  });

  test('the ragged row comes with its failure, in its place', async () => {
    const window = await owner.documentRows(jobId, documentId, { offset: RAGGED_ROW - 2, limit: 3 });
    assert.deepEqual(window.rows.map((row) => [row.page, row.failure?.code ?? null]), [[RAGGED_ROW - 1, null], [RAGGED_ROW, 'invalid_sheet'], [RAGGED_ROW + 1, null]]);
  });

  test('sorted by a numeric column, both ways; windows of one view agree', async () => {
    const started = performance.now();
    const ascending = await owner.documentRows(jobId, documentId, { sort: 'cells.amount', limit: 5 });
    const firstMs = performance.now() - started;
    assert.equal(ascending.total, ROWS);
    // amount(i) = i·7919 mod 30000 is 0 for i = 30,000 only; 1 for the i with i·7919 ≡ 1.
    const amounts = ascending.rows.map((row) => Number(row.read?.cells?.amount));
    assert.deepEqual(amounts, [0, 1, 2, 3, 4], 'numbers compared as numbers, not text');
    assert.equal(ascending.rows[0]?.page, ROWS);
    const again = performance.now();
    const deep = await owner.documentRows(jobId, documentId, { sort: 'cells.amount', offset: 20_000, limit: 3 });
    const cachedMs = performance.now() - again;
    assert.deepEqual(deep.rows.map((row) => Number(row.read?.cells?.amount)), [20_000, 20_001, 20_002].filter((amount) => amount !== amountOf(RAGGED_ROW)));
    const descending = await owner.documentRows(jobId, documentId, { sort: 'cells.amount', order: 'desc', limit: 2 });
    assert.deepEqual(descending.rows.map((row) => Number(row.read?.cells?.amount)), [ROWS - 1, ROWS - 2]);
    console.log(`sort of ${ROWS} rows: first window ${Math.round(firstMs)} ms, a later window of the same view ${Math.round(cachedMs)} ms`);
  });

  test('sorted by text: empty cells last; by row number descending', async () => {
    const byNote = await owner.documentRows(jobId, documentId, { sort: 'cells.note', limit: 2 });
    assert.deepEqual(byNote.rows.map((row) => row.read?.cells?.note), ['code C-10', 'code C-20'], 'numeric-aware text order');
    const tail = await owner.documentRows(jobId, documentId, { sort: 'cells.note', offset: ROWS - 1, limit: 5 });
    assert.equal(tail.rows.length, 1);
    assert.equal(tail.rows[0]?.read?.cells?.note ?? '', '', 'empty notes sort last');
    const descending = await owner.documentRows(jobId, documentId, { sort: 'cells.note', order: 'desc', limit: 1 });
    assert.equal(descending.rows[0]?.read?.cells?.note, `code C-${ROWS}`, 'descending: the greatest first, the empty ones still last');
    const descendingTail = await owner.documentRows(jobId, documentId, { sort: 'cells.note', order: 'desc', offset: ROWS - 1 });
    assert.equal(descendingTail.rows[0]?.read?.cells?.note ?? '', '');
    const byRow = await owner.documentRows(jobId, documentId, { sort: 'row', order: 'desc', limit: 2 });
    assert.deepEqual(byRow.rows.map((row) => row.page), [ROWS, ROWS - 1]);
  });

  test('filtered by one column, by a field, by the error, and across every column', async () => {
    const zanzibar = await owner.documentRows(jobId, documentId, { filter: 'zanzi', filterBy: 'cells.city' });
    assert.equal(zanzibar.total, 1);
    assert.equal(zanzibar.rows[0]?.page, 12_345);
    const oslo = await owner.documentRows(jobId, documentId, { filter: 'OSLO', filterBy: 'cells.city', sort: 'cells.amount', order: 'desc', limit: 3 });
    assert.equal(oslo.total, ROWS / CITIES.length - 1, 'every fifth row but Zanzibar\'s, ignoring case');
    assert.ok(oslo.rows.every((row) => row.read?.cells?.city === 'Oslo'));
    const amounts = oslo.rows.map((row) => Number(row.read?.cells?.amount));
    assert.deepEqual(amounts, [...amounts].sort((x, y) => y - x), 'filtered, then sorted');
    const codes = await owner.documentRows(jobId, documentId, { filter: '2999', filterBy: 'fields.code' });
    assert.deepEqual(codes.rows.map((row) => row.page), [29_990], 'the only code with 2999 in it');
    const failed = await owner.documentRows(jobId, documentId, { filter: 'invalid_sheet', filterBy: 'error' });
    assert.deepEqual(failed.rows.map((row) => row.page), [RAGGED_ROW]);
    const anywhere = await owner.documentRows(jobId, documentId, { filter: 'item 2999' });
    assert.deepEqual(anywhere.rows.map((row) => row.page), [2_999, 29_990, 29_991, 29_992, 29_993, 29_994, 29_995, 29_996, 29_997, 29_998, 29_999]);
  });

  test('bad queries are refused with a code; another tenant reads nothing', async () => {
    await assert.rejects(owner.documentRows(jobId, documentId, { sort: 'amount' }), withCode('validation_failed'));
    await assert.rejects(owner.documentRows(jobId, documentId, { limit: 5_000 }), withCode('validation_failed'));
    await assert.rejects(owner.documentRows(jobId, documentId, { filterBy: 'cells.city' }), withCode('validation_failed'));
    await assert.rejects(other.documentRows(jobId, documentId, { offset: 0 }), withCode('not_found'));
  });
});

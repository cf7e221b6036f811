// Distributed: a table's rows as engine items over BullMQ and PostgreSQL, run by two `ream
// worker`s (packed checkpoints in PostgreSQL); the rows come back in input order, each with its
// own fields, row by row from the checkpoints (the result of a long table leaves them out), and
// by window, sorted and filtered by the server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { MAX_ROWS_IN_RESULT } from '../../src/pipeline/rows-pipeline.ts';
import { INVOICE_FIELDS, INVOICE_RULES, invoiceFields, invoiceRow, toCsv } from '../formats/sheet-files.ts';
import { startCluster } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';

const missing = (await redisUnavailable()) ?? (await postgresUnavailable());

void test('distributed: a long table\'s row batches, run by two workers, come back in order with their fields', { timeout: 300_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  // The server takes documents of up to 10,000 pages unless told more: a table's rows are pages.
  const cluster = await startCluster({ workers: 2, workerArgs: ['--concurrency', '2', '--threads', '1'], serverArgs: ['--max-pages', '100000'] });
  try {
    const count = MAX_ROWS_IN_RESULT + 1500; // more than a result lists: the rows stay in their checkpoints
    const rows = Array.from({ length: count }, (_, i) => invoiceRow(i + 1));
    const body = new FormData();
    body.append('pipeline', 'rows');
    body.append('options', JSON.stringify({ rules: INVOICE_RULES, chunkPages: 1000, index: false }));
    body.append('file', new Blob([toCsv([['name', 'note', 'amount'], ...rows])], { type: 'text/csv' }), 'orders.csv');
    const response = await fetch(`${cluster.server.url}/v1/jobs`, { method: 'POST', body });
    const text = await response.text();
    assert.equal(response.status, 202, text);
    const client = new ReamClient({ baseUrl: cluster.server.url });
    const ended = await client.wait((JSON.parse(text) as { id: string }).id);
    if (ended.status !== 'succeeded') assert.fail(`${ended.status}: ${JSON.stringify((await client.results(ended.id))[0]?.error)}`);
    assert.deepEqual(ended.progress.rows, { done: count, total: count });

    const [result] = await client.results(ended.id);
    assert.ok(result);
    assert.equal(result.pagesOmitted, true);
    assert.deepEqual(Object.keys(result.fields), INVOICE_FIELDS, 'every field named, from the checkpoints\' small parts');
    let expected = 1;
    for await (const page of client.documentPages(ended.id, result.documentId)) {
      assert.equal(page.page, expected, 'rows in input order');
      assert.equal(page.read?.cells?.name, `Item ${expected}`);
      assert.deepEqual(INVOICE_FIELDS.map((name) => page.fields[name]?.map((match) => match.value).join('') ?? ''), invoiceFields(expected));
      expected++;
    }
    assert.equal(expected - 1, count, 'every row');

    // A window from the PostgreSQL checkpoints, and the server's sort and filter over every row.
    const window = await client.documentRows(ended.id, result.documentId, { offset: 10_100, limit: 3 });
    assert.deepEqual([window.total, ...window.rows.map((row) => row.page)], [count, 10_101, 10_102, 10_103]);
    const sorted = await client.documentRows(ended.id, result.documentId, { sort: 'row', order: 'desc', limit: 2 });
    assert.deepEqual(sorted.rows.map((row) => row.page), [count, count - 1]);
    const filtered = await client.documentRows(ended.id, result.documentId, { filter: `Item ${count}`, filterBy: 'cells.name' });
    assert.deepEqual(filtered.rows.map((row) => row.page), [count]);
  } finally {
    await cluster.stop();
  }
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import { startServer } from '../../src/server/app.ts';
import { makePdf } from '../support/make-pdf.ts';
import { brokenBook, ordersWorkbook, toCsv } from '../formats/sheet-files.ts';

async function store(url: string, name: string, data: Uint8Array | string, type: string): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([data], { type }), name);
  const answer = await fetch(`${url}/v1/documents`, { method: 'POST', body: form });
  assert.equal(answer.status, 201);
  return ((await answer.json()) as { items: Array<{ id: string }> }).items[0]?.id ?? '';
}

void test('POST /v1/documents/:id/inspect: a workbook\'s sheets with their columns, a CSV\'s one; a PDF is unsupported_type', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-table-outline-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  const server = await startServer({ ream, host: '127.0.0.1', port: 0 });
  try {
    const client = new ReamClient({ baseUrl: server.url });
    const book = await store(server.url, 'book.xlsx', await ordersWorkbook(), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const outline = await client.inspectDocument(book);
    assert.deepEqual(outline.sheets.map((sheet) => sheet.name), ['Notes', 'Orders', 'Empty']);
    assert.deepEqual(outline.sheets[1]?.columns, ['id', 'date', 'qty', 'price', 'total', 'note']);
    assert.deepEqual(outline.sheets[0]?.columns, ['topic', 'done']);
    assert.deepEqual(outline.sheets[2]?.columns, [], 'a sheet without a header row has no columns');

    // A sheet that cannot be read is listed with its error; the others are read as ever.
    const broken = await store(server.url, 'broken.xlsx', await brokenBook(), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const listed = await client.inspectDocument(broken);
    assert.deepEqual(listed.sheets.map((sheet) => [sheet.name, sheet.columns, sheet.error?.code]), [
      ['First', ['name', 'note'], undefined],
      ['Second', [], 'invalid_sheet'],
      ['Third', [], 'invalid_sheet'],
    ]);
    assert.match(listed.sheets[1]?.error?.message ?? '', /sheet "Second" has no part in the archive/);

    const csv = await store(server.url, 'people.csv', toCsv([['name', 'city'], ['Ann', 'Oslo']]), 'text/csv');
    assert.deepEqual(await client.inspectDocument(csv), { sheets: [{ name: null, columns: ['name', 'city'] }] });

    const pdf = await store(server.url, 'a.pdf', await makePdf({ pages: ['x'] }), 'application/pdf');
    await assert.rejects(client.inspectDocument(pdf), { code: 'unsupported_type' });
    await assert.rejects(client.inspectDocument('doc_missing'), { code: 'not_found' });

    // A request whose second file is refused says that its first was stored, and which it is.
    const form = new FormData();
    form.append('file', new Blob(['a note kept\n'], { type: 'text/plain' }), 'kept.txt');
    form.append('file', new Blob([Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(32)])], { type: 'image/gif' }), 'logo.gif');
    const refused = await fetch(`${server.url}/v1/documents`, { method: 'POST', body: form });
    assert.equal(refused.status, 415);
    const problem = (await refused.json()) as { code: string; detail: string; details: { stored: Array<{ id: string; name: string }> } };
    assert.equal(problem.code, 'unsupported_type');
    assert.deepEqual(problem.details.stored.map((s) => s.name), ['kept.txt']);
    assert.match(problem.detail, /the 1 file\(s\) before it were stored: doc_\S+ "kept\.txt"/);
    assert.equal((await client.getDocument(problem.details.stored[0]?.id ?? '')).name, 'kept.txt', 'it is stored');
  } finally {
    await server.close();
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
});

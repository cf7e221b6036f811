// `columns` (the rows pipeline's option, `ReadOptions.columns`): each row keeps only the columns
// asked for, in the order asked, in its text and its cells; a name the header lacks fails the
// document with validation_failed naming it; through the engine the rules see only those columns.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import type { JsonObject } from '../../src/json.ts';
import { PipelineRegistry } from '../../src/pipeline/registry.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { ordersWorkbook, sheetFixture, toCsv } from './sheet-files.ts';

void describe('rows with a choice of columns', () => {
  const fixture = sheetFixture();

  void test('a workbook\'s sheet: each row keeps the columns asked for, in that order', async () => {
    const path = await fixture.file('book.xlsx', await ordersWorkbook());
    const { extraction } = await fixture.read(path, { tablePages: 'rows', sheet: 'Orders', columns: ['note', 'id'] });
    assert.equal(extraction.pages[0]?.text, 'note: first\nid: 1');
    assert.deepEqual(extraction.pages[0]?.cells, { note: 'first', id: 1 });
    assert.equal(extraction.pages.length, 4);
  });

  void test('a CSV: the same; an unknown column is validation_failed naming it and the columns there are', async () => {
    const path = await fixture.file('people.csv', toCsv([['name', 'city', 'age'], ['Ann', 'Oslo', '31'], ['Bo', 'Rome', '42']]));
    const { extraction } = await fixture.read(path, { tablePages: 'rows', columns: ['city'] });
    assert.deepEqual(extraction.pages.map((page) => page.text), ['city: Oslo', 'city: Rome']);
    await rejectsWithCode(fixture.read(path, { tablePages: 'rows', columns: ['city', 'zip'] }), 'validation_failed', /"zip".*name, city, age/);
  });

  void test('the option: a non-empty list of distinct names, else validation_failed', () => {
    const registry = new PipelineRegistry();
    assert.deepEqual(registry.build('rows', { columns: ['a', 'b'] }).read?.columns, ['a', 'b']);
    for (const options of [{ columns: [] }, { columns: 'a' }, { columns: ['a', 'a'] }, { columns: [''] }, { columns: [1] }] as JsonObject[]) {
      assert.throws(() => registry.build('rows', options), (error: unknown) => error instanceof ReamError && error.code === 'validation_failed', JSON.stringify(options));
    }
  });

  void test('through the engine: the rules read only the chosen column; an unknown one fails the document', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ream-sheet-columns-'));
    const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
    try {
      const book = join(dir, 'book.xlsx');
      await writeFile(book, await ordersWorkbook());
      // `id: \d` would match every row with all columns kept; with `note` alone it finds nothing.
      const rules = [{ name: 'id', pattern: String.raw`id: (\d)`, group: 1 }, { name: 'note', pattern: 'note: (.+)', group: 1 }];
      const job = await ream.submit({ pipeline: 'rows', files: [book], options: { sheet: 'Orders', columns: ['note'], rules } });
      await ream.wait(job.id);
      const [table] = await Array.fromAsync(ream.results(job.id));
      assert.equal(table?.status, 'succeeded', JSON.stringify(table?.error));
      assert.deepEqual(table.fields.id ?? [], []);
      assert.deepEqual(table.fields.note?.map((field) => field.value), ['first', 'bold and plain', 'merged note']);
      assert.deepEqual(Object.keys(table.pages[0]?.cells ?? {}), ['note']);

      const bad = await ream.submit({ pipeline: 'rows', files: [book], options: { sheet: 'Orders', columns: ['nope'] } });
      assert.equal((await ream.wait(bad.id)).status, 'failed');
      const [failed] = await Array.fromAsync(ream.results(bad.id));
      assert.equal(failed?.error?.code, 'validation_failed');
      assert.match(failed.error.message, /"nope"/);
    } finally {
      await ream.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// `ream rows` writes its table while the job runs (rows-follower.ts): what the follower wrote,
// finished after the job with the rows after it, is the table written at the end byte for byte.
import assert from 'node:assert/strict';
import { access, readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { fromJson, type JsonValue } from '../../src/json.ts';
import type { DocumentOutput } from '../../src/pipeline/types.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import { followTable, tableFieldNames } from '../../src/cli/rows-follower.ts';
import { csvFieldsOf, outputTable, tableLayout, writeTableBatch, type RowCounts } from '../../src/cli/rows-table.ts';
import { openTableWriter } from '../../src/cli/table-writers.ts';
import { INVOICE_RULES, invoiceRow, toCsv } from '../formats/sheet-files.ts';
import { useRowsFolder, workDir } from './rows-helpers.ts';

useRowsFolder();

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

test('tableFieldNames: the rules\' names in order, then the fields the model questions fill; nothing else guessed', () => {
  assert.deepEqual(tableFieldNames({ rules: INVOICE_RULES }), ['invoice', 'flag']);
  assert.deepEqual(tableFieldNames({ rules: [{ name: 'a', keywords: ['x'] }, { pattern: 'no name' }, 'text'] }), ['a']);
  assert.deepEqual(tableFieldNames({ rules: { name: 'a' } }), []);
  assert.deepEqual(tableFieldNames({}), []);
  const schema = { type: 'object', properties: { grape: { type: 'string' }, invoice: { type: 'string' }, score: { type: 'number' } } };
  assert.deepEqual(tableFieldNames({ rules: INVOICE_RULES, llm: { schema } }), ['invoice', 'flag', 'grape', 'score']);
  assert.deepEqual(tableFieldNames({ llm: { mode: 'summarize' } }), ['summary']);
  assert.deepEqual(tableFieldNames({ llm: { mode: 'classify', labels: ['a', 'b'] } }), ['label']);
  assert.deepEqual(tableFieldNames({ llm: { mode: 'ask', question: 'why?' } }), ['answer']);
});

test('the rows written while the job ran, and the rest after it, are the table written at the end', async () => {
  const work = await workDir('follow');
  const count = 3_000;
  const rows = Array.from({ length: count }, (_, i) => invoiceRow(i + 1));
  rows[1_234] = [...invoiceRow(1_235), 'one cell too many']; // a failed row keeps its place
  const input = join(work, 'in.csv');
  await writeFile(input, toCsv([['name', 'note', 'amount'], ...rows]));
  const ream = await createReam({ dataDir: join(work, 'data'), threads: 1 });
  try {
    const job = await ream.submit({ pipeline: 'rows', options: { rules: INVOICE_RULES, chunkPages: 250 }, files: [input] });
    const [doc] = await ream.jobDocuments(job.id);
    const documentId = doc?.documentId ?? '';
    const followed = join(work, 'followed.csv');
    const follower = followTable(ream, job.id, documentId, followed, tableFieldNames({ rules: INVOICE_RULES }), () => 'Sheet1');
    await ream.wait(job.id);
    // A job may end before the follower's first look (it looks every 100 ms): it opens the table
    // once the columns are known, whenever that is, and follows until it is stopped.
    for (let i = 0; i < 100 && !(await exists(`${followed}.partial`)); i++) await sleep(20);
    const table = await follower.stop();
    assert.ok(table, 'the follower opened the table once the columns were known');
    assert.ok(table.pagesWritten <= count);
    assert.equal(table.counts.rows, table.pagesWritten, 'counted as written');
    assert.equal(await follower.stop(), undefined, 'handed over once');
    const output = fromJson<DocumentOutput>((await ream.documentResult(job.id, documentId))?.output ?? null);
    const rest = outputTable(output, ream.documentPageBatches(job.id, documentId, { after: table.pagesWritten }), table.counts);
    assert.deepEqual(rest.header, table.header, 'the guessed header is the result\'s');
    assert.deepEqual([table.columns, table.fieldNames], [output.metadata?.columns, Object.keys(output.fields)]);
    for await (const batch of rest.batches) await table.writer.writeRows(batch);
    await table.writer.close();
    assert.deepEqual(rest.counts, { rows: count, failedRows: 1 });

    const atEnd = join(work, 'at-end.csv');
    const whole = outputTable(output, ream.documentPageBatches(job.id, documentId));
    const writer = await openTableWriter(atEnd, whole.header, 'Sheet1', 3);
    for await (const batch of whole.batches) await writer.writeRows(batch);
    await writer.close();
    const expected = await readFile(atEnd, 'utf8');
    assert.equal(parse(expected).length, count + 1, 'the header and every row');
    assert.equal(await readFile(followed, 'utf8'), expected);
  } finally {
    await ream.close();
  }
});

test('tableCsv: every batch keeps its CSV records, which written as they are give the table laid out from the pages, byte for byte', async () => {
  const work = await workDir('csv-records');
  const count = 1_100;
  const rows = Array.from({ length: count }, (_, i) => invoiceRow(i + 1));
  rows[40] = [...invoiceRow(41), 'one cell too many']; // a failed row keeps its place
  rows[41] = ['=1+2', 'INV-7 then "=cmd"', '']; // an input cell stays as written; a field value is guarded
  const input = join(work, 'in.csv');
  await writeFile(input, `\ufeff${toCsv([['name', 'note', 'amount'], ...rows], ',', '\n')}\n\n`);
  const rules: JsonValue = [...(INVOICE_RULES as JsonValue[]), { name: 'formula', pattern: String.raw`"(=\w+)"` }];
  const ream = await createReam({ dataDir: join(work, 'data'), threads: 1 });
  try {
    const job = await ream.submit({ pipeline: 'rows', options: { rules, chunkPages: 250, tableCsv: true }, files: [input] });
    await ream.wait(job.id);
    const [doc] = await ream.jobDocuments(job.id);
    const documentId = doc?.documentId ?? '';
    const output = fromJson<DocumentOutput>((await ream.documentResult(job.id, documentId))?.output ?? null);
    const layout = tableLayout(output.metadata?.columns ?? [], Object.keys(output.fields));
    assert.deepEqual(layout.fieldNames, ['invoice', 'flag', 'formula']);
    const write = async (path: string, csv: boolean): Promise<{ kinds: string[]; counts: RowCounts }> => {
      const writer = await openTableWriter(path, layout.header, 'Sheet1', output.metadata?.columns?.length);
      const counts: RowCounts = { rows: 0, failedRows: 0 };
      const kinds: string[] = [];
      for await (const batch of ream.documentTableBatches(job.id, documentId, csv ? csvFieldsOf(writer, layout) : {})) {
        kinds.push('csv' in batch ? 'csv' : 'pages');
        await writeTableBatch(writer, layout, batch, counts);
      }
      await writer.close();
      return { kinds, counts };
    };
    const fromRecords = await write(join(work, 'records.csv'), true);
    const fromPages = await write(join(work, 'pages.csv'), false);
    assert.deepEqual(fromRecords.kinds, ['csv', 'csv', 'csv', 'csv', 'csv'], 'no batch parsed here');
    assert.deepEqual(fromPages.kinds, ['pages', 'pages', 'pages', 'pages', 'pages']);
    assert.deepEqual(fromRecords.counts, { rows: count, failedRows: 1 });
    assert.deepEqual(fromPages.counts, fromRecords.counts);
    const table = await readFile(join(work, 'records.csv'), 'utf8');
    assert.equal(table, await readFile(join(work, 'pages.csv'), 'utf8'));
    const records: string[][] = parse(table);
    assert.deepEqual(records[42], ['=1+2', 'INV-7 then "=cmd"', '', '7', '', '\'=cmd', '', '']);
    assert.deepEqual(records[41]?.slice(3), ['', '', '', 'invalid_sheet', 'row 41 has 4 cells; the header has 3 columns']);

    // Fields other than the batches' (a layout guessed otherwise): their pages, laid out anew.
    const other = [];
    for await (const batch of ream.documentTableBatches(job.id, documentId, { csvFields: ['invoice'] })) other.push('csv' in batch ? 'csv' : 'pages');
    assert.deepEqual(other, ['pages', 'pages', 'pages', 'pages', 'pages']);
  } finally {
    await ream.close();
  }
});

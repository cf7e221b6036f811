// `ream rows`: a table in, the same table out with a column per field, by the real binary.
// Interrupted runs (kill -9, Ctrl-C) are in rows-interrupt.test.ts.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import ExcelJS from 'exceljs';
import { planChunks } from '../../src/pipeline/chunk-planner.ts';
import { corpusDir, requireCorpus } from '../support/env.ts';
import { makePdf } from '../support/make-pdf.ts';
import { invoiceFields, invoiceRow, ORDERS_CELLS, ORDERS_COLUMNS, ordersWorkbook, toCsv } from '../formats/sheet-files.ts';
import { readCsv, useRowsFolder, workDir } from './rows-helpers.ts';
import { run } from './run-process.ts';

useRowsFolder();

describe('ream rows', () => {
  test('CSV in (BOM, ;, quoted line breaks), CSV out: every cell kept, a column per field, a ragged row with its error, in order', async () => {
    const work = await workDir('csv');
    const count = 40;
    const rows = Array.from({ length: count }, (_, i) => invoiceRow(i + 1));
    const ragged = 17;
    rows[ragged - 1] = [...invoiceRow(ragged), 'one cell too many'];
    await writeFile(join(work, 'in.csv'), `\ufeff${toCsv([['name', 'note', 'amount'], ...rows], ';')}`);
    const result = await run(['rows', 'in.csv', '--rules', 'rules.json', '--rows-per-task', '7', '--progress', 'none'], work);
    assert.equal(result.code, 1, `one row failed, so exit 1: ${result.stderr}`);
    const batches = planChunks(count, 7).length;
    assert.match(result.stdout, new RegExp(`done: ${count - 1} rows succeeded, 1 failed, of ${count} \\(${batches} batch\\(es\\)\\)`));
    assert.match(result.stdout, /table: in-out\.csv/);

    const [header, ...out] = await readCsv(join(work, 'in-out.csv'));
    assert.deepEqual(header, ['name', 'note', 'amount', 'invoice', 'flag', 'error_code', 'error_message']);
    assert.equal(out.length, count, 'one row out per row in');
    out.forEach((cells, index) => {
      const i = index + 1;
      if (i === ragged) {
        assert.deepEqual(cells, ['', '', '', '', '', 'invalid_sheet', `row ${i} has 4 cells; the header has 3 columns`]);
      } else {
        assert.deepEqual(cells, [...invoiceRow(i), ...invoiceFields(i), '', ''], `row ${i}`);
      }
    });
  });

  test('every row failing: the table still has a column per rule, and each row as many cells as the header', async () => {
    const work = await workDir('all-failed');
    await writeFile(join(work, 'bad.csv'), 'name,note,amount\n1,2,3,4\n5,6,7,8\n');
    const result = await run(['rows', 'bad.csv', '--rules', 'rules.json', '--progress', 'none'], work);
    assert.equal(result.code, 1, result.stderr);
    const [header, ...out] = await readCsv(join(work, 'bad-out.csv'));
    assert.deepEqual(header, ['name', 'note', 'amount', 'invoice', 'flag', 'error_code', 'error_message']);
    assert.deepEqual(out.map((cells) => [cells.length, cells.at(-2)]), [[7, 'invalid_sheet'], [7, 'invalid_sheet']]);
  });

  test('XLSX in (a sheet by name), XLSX and JSONL out: values keep their types', async () => {
    const work = await workDir('xlsx');
    await writeFile(join(work, 'book.xlsx'), await ordersWorkbook());
    const xlsx = await run(['rows', 'book.xlsx', '--sheet', 'Orders', '--progress', 'none'], work);
    assert.equal(xlsx.code, 0, xlsx.stdout + xlsx.stderr);
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(join(work, 'book-out.xlsx'));
    const sheet = book.getWorksheet('Orders');
    assert.ok(sheet, 'the sheet keeps its name');
    const values = (n: number): unknown[] => Array.from({ length: ORDERS_COLUMNS.length + 2 }, (_, i) => sheet.getRow(n).getCell(i + 1).value ?? null);
    assert.deepEqual(values(1), [...ORDERS_COLUMNS, 'error_code', 'error_message']);
    ORDERS_CELLS.forEach((cells, i) => assert.deepEqual(values(i + 2), [...cells, null, null], `row ${i + 1}`));
    assert.equal(sheet.actualRowCount, ORDERS_CELLS.length + 1);

    const jsonl = await run(['rows', 'book.xlsx', '--sheet', 'Orders', '--out', 'orders.jsonl', '--progress', 'none'], work);
    assert.equal(jsonl.code, 0, jsonl.stderr);
    const lines = (await readFile(join(work, 'orders.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(lines, ORDERS_CELLS.map((cells) => ({ ...Object.fromEntries(ORDERS_COLUMNS.map((c, i) => [c, cells[i]])), error_code: null, error_message: null })));
  });

  test('bad input ends with a stable code and no table; a bad --out is a usage error (2)', async () => {
    const work = await workDir('bad');
    await writeFile(join(work, 'text.xlsx'), 'id,name\n1,a\n');
    await writeFile(join(work, 'empty.csv'), '');
    await writeFile(join(work, 'header.csv'), 'a;b\n');
    await writeFile(join(work, 'doc.pdf'), await makePdf({ pages: ['no table here'] }));
    const cases = [['text.xlsx', 'invalid_sheet'], ['empty.csv', 'empty_file'], ['header.csv', 'invalid_sheet'], ['doc.pdf', 'unsupported_type']] as const;
    for (const [file, code] of cases) {
      const result = await run(['rows', file, '--out', `${file}.csv`, '--progress', 'none'], work);
      assert.equal(result.code, 1, `${file}: ${result.stderr}`);
      assert.match(result.stdout, new RegExp(`failed: ${file.replace('.', '\\.')}: .*\\[${code}\\]`));
      assert.equal(existsSync(join(work, `${file}.csv`)), false, `${file}: no table written`);
    }
    const usage = await run(['rows', 'header.csv', '--out', 'out.txt'], work);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--out must end in \.csv, \.xlsx, \.jsonl/);
    // A byte that is not UTF-8 past the first 4 KB (where intake looks) fails its row, and only it.
    const rows = Array.from({ length: 400 }, (_, i) => Buffer.from(`${i + 1},${i === 299 ? 'Caf\xe9' : 'plain text here'}\n`, 'latin1'));
    await writeFile(join(work, 'latin.csv'), Buffer.concat([Buffer.from('id,name\n'), ...rows]));
    const latin = await run(['rows', 'latin.csv', '--out', 'latin-out.csv', '--progress', 'none'], work);
    assert.equal(latin.code, 1, latin.stdout + latin.stderr);
    assert.match(latin.stdout, /done: 399 rows succeeded, 1 failed, of 400/);
    const written = await readCsv(join(work, 'latin-out.csv'));
    assert.match(written[300]?.join(',') ?? '', /invalid_sheet,row 300 holds bytes that are not UTF-8/);
    assert.ok(written.every((cells) => !cells.join('').includes('\uFFFD')), 'nothing written as U+FFFD');
    await writeFile(join(work, 'mine.csv'), 'id,name\n1,a\n');
    const itself = await run(['rows', 'mine.csv', '--out', './mine.csv', '--progress', 'none'], work);
    assert.equal(itself.code, 2, itself.stderr);
    assert.match(itself.stderr, /is the input table itself/);
    assert.equal(await readFile(join(work, 'mine.csv'), 'utf8'), 'id,name\n1,a\n', 'the input is left as it was');
  });

  test('the corpus CSV (sklearn wine_data): one row out per row in, each with the code that says why it failed', async (t) => {
    if (!requireCorpus(t)) return;
    const work = await workDir('wine');
    const input = join(corpusDir, 'python3-sklearn__data__wine_data.csv');
    const [first = '', ...lines] = (await readFile(input, 'utf8')).split(/\r?\n/).filter((line) => line.trim() !== '');
    const result = await run(['rows', input, '--out', 'wine.csv', '--progress', 'none'], work);
    assert.equal(result.code, 1, result.stderr);
    const [header, ...out] = await readCsv(join(work, 'wine.csv'));
    assert.deepEqual(header, [...first.split(','), 'error_code', 'error_message']);
    assert.equal(out.length, lines.length);
    // Its first line is a summary (sample count, feature count, class names), not a header: every
    // data row is wider, and says so rather than being cut to fit.
    out.forEach((cells, i) => assert.equal(cells.at(-2), lines[i]?.split(',').length === header.length - 2 ? '' : 'invalid_sheet', `row ${i + 1}`));
  });
});

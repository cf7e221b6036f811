import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import ExcelJS from 'exceljs';
import { createFormats } from '../../src/formats/registry.ts';
import { XLSX_MEDIA_TYPE } from '../../src/formats/sniff.ts';
import { createThreadPool } from '../../src/runtime/thread-pool.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { cellsOf, ORDERS_CELLS, ORDERS_COLUMNS, ordersWorkbook as workbook, sheetFixture } from './sheet-files.ts';

void describe('XLSX format', () => {
  const fx = sheetFixture();
  let book: string;
  const bookPath = async (): Promise<string> => (book ??= await fx.file('book.xlsx', await workbook()));

  void test('the first sheet by default, with booleans as booleans', async () => {
    const read = await fx.read(await bookPath());
    assert.equal(read.mediaType, XLSX_MEDIA_TYPE);
    assert.equal(read.inspection.metadata.sheet, 'Notes');
    assert.deepEqual(read.inspection.metadata.columns, ['topic', 'done']);
    assert.deepEqual(cellsOf(read), [['taxes', true], ['rent', false]]);
  });

  void test('a sheet by name: dates as ISO 8601, formulas as their cached value, empty and merged cells', async () => {
    const read = await fx.read(await bookPath(), { sheet: 'Orders' });
    assert.equal(read.inspection.metadata.sheet, 'Orders');
    assert.equal(read.inspection.pageCount, 4);
    assert.deepEqual(read.inspection.metadata.columns, ORDERS_COLUMNS);
    assert.deepEqual(cellsOf(read), ORDERS_CELLS);
    assert.equal(read.extraction.pages[0]?.text, 'id: 1\ndate: 2024-03-01\nqty: 2\nprice: 5.5\ntotal: 11\nnote: first');
    const format = await fx.formats().identify(await bookPath(), undefined, { maxBytes: 1e8, maxPages: 10 });
    const part = await format.extract(await bookPath(), { from: 2, to: 3 }, undefined, { sheet: 'Orders' });
    assert.deepEqual(part.pages.map((p) => [p.page, p.cells?.id]), [[3, 3]], 'a range of rows, numbered in the sheet');
  });

  void test('a formula whose cell has a date format gives the date it shows, in 1900 and 1904 workbooks', async () => {
    for (const date1904 of [false, true]) {
      const book = new ExcelJS.Workbook();
      book.properties.date1904 = date1904;
      const sheet = book.addWorksheet('Dates');
      sheet.addRows([['start', 'due', 'days'], [new Date(Date.UTC(2024, 0, 15)), { formula: 'A2+30', result: date1904 ? 43874 : 45336 }, { formula: 'B2-A2', result: 30 }]]);
      sheet.getColumn(1).numFmt = 'yyyy-mm-dd';
      sheet.getColumn(2).numFmt = 'yyyy-mm-dd';
      const read = await fx.read(await fx.file(`dates-${date1904}.xlsx`, new Uint8Array(await book.xlsx.writeBuffer())));
      assert.deepEqual(cellsOf(read), [['2024-01-15', '2024-02-14', 30]], `date1904: ${date1904}`);
    }
  });

  void test('an exceljs-written workbook (workbook part stored last) reads every time, and leaves no temp files', async () => {
    // exceljs's own one-pass reader copies such sheets to temp files and, with an empty temp dir
    // (timing), loses the workbook part (exceljs#3064): a pool whose threads see such a dir
    // failed every read with "Cannot read properties of undefined (reading 'sheets')".
    const temp = await mkdtemp(join(tmpdir(), 'ream-xlsx-temp-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = temp; // a pool thread takes a copy of the environment when it starts
    const pool = createThreadPool({ threads: 1 });
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    try {
      const path = await bookPath();
      const format = await createFormats(pool).identify(path, undefined, { maxBytes: 1e8, maxPages: 10 });
      for (let i = 0; i < 5; i++) {
        const read = await format.extract(path, { from: 0, to: 2 }, undefined, { sheet: 'Orders' });
        assert.deepEqual(read.pages.map((p) => p.cells?.id), [1, 2]);
      }
      assert.deepEqual(await readdir(temp), [], 'no temp copies left behind by reads that stop early');
    } finally {
      await pool.destroy();
      await rm(temp, { recursive: true, force: true });
    }
  });

  void test('a sheet that is not there, or has no rows, is invalid_sheet naming the sheets there are', async () => {
    await rejectsWithCode(fx.read(await bookPath(), { sheet: 'Invoices' }), 'invalid_sheet', /no sheet named "Invoices"; it has "Notes", "Orders", "Empty"/);
    await rejectsWithCode(fx.read(await bookPath(), { sheet: 'Empty' }), 'invalid_sheet', /no header row/);
  });

  void test('not a workbook: a .xlsx that is no ZIP, a cut-off workbook, a ZIP of something else', async () => {
    await rejectsWithCode(fx.read(await fx.file('text.xlsx', 'id,name\n1,a\n')), 'invalid_sheet', /not a ZIP/);
    const whole = await workbook();
    await rejectsWithCode(fx.read(await fx.file('cut.xlsx', whole.subarray(0, Math.floor(whole.length / 2)))), 'invalid_sheet');
    // A workbook's ZIP with parts renamed away (names are stored uncompressed): its sheets, or its workbook part.
    const renamed = (from: string, to: string): Buffer => Buffer.from(Buffer.from(whole).toString('latin1').replaceAll(from, to), 'latin1');
    await rejectsWithCode(fx.read(await fx.file('nosheet.xlsx', renamed('xl/worksheets/sheet', 'xl/worksheets/other'))), 'invalid_sheet', /sheet "Notes" has no part in the archive/);
    await rejectsWithCode(fx.read(await fx.file('nobook.xlsx', renamed('xl/workbook.xml', 'xl/workbooX.xml'))), 'invalid_sheet', /not an XLSX workbook \(it has no xl\/workbook\.xml\)/);
  });
});

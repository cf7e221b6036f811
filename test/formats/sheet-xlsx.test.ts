import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import ExcelJS from 'exceljs';
import { XLSX_MEDIA_TYPE } from '../../src/formats/sniff.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { cellsOf, sheetFixture } from './sheet-files.ts';

const march1 = new Date(Date.UTC(2024, 2, 1));
const march2 = new Date(Date.UTC(2024, 2, 2, 13, 30));

/** Three sheets; `Orders`, the second, has dates, formulas, empty and merged cells. */
async function workbook(): Promise<Uint8Array> {
  const book = new ExcelJS.Workbook();
  const notes = book.addWorksheet('Notes');
  notes.addRows([['topic', 'done'], ['taxes', true], ['rent', false]]);
  const orders = book.addWorksheet('Orders');
  orders.addRows([
    ['id', 'date', 'qty', 'price', 'total', 'note'],
    [1, march1, 2, 5.5, { formula: 'C2*D2', result: 11 }, 'first'],
    [2, march2, 3, 1, { formula: 'C3*D3', result: 3 }, { richText: [{ text: 'bold ' }, { text: 'and plain' }] }],
    [3, null, 1, 2, { formula: 'C4*D4' }, 'merged note'],
    [4, march1, null, null, null, null],
  ]);
  orders.mergeCells('F4:F5'); // "merged note" spans rows 3 and 4
  orders.getColumn(2).numFmt = 'yyyy-mm-dd';
  book.addWorksheet('Empty');
  return new Uint8Array(await book.xlsx.writeBuffer());
}

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
    assert.deepEqual(cellsOf(read), [
      [1, '2024-03-01', 2, 5.5, 11, 'first'],
      [2, '2024-03-02T13:30:00.000Z', 3, 1, 3, 'bold and plain'],
      [3, null, 1, 2, null, 'merged note'], // a formula never calculated has no value
      [4, '2024-03-01', null, null, null, null], // a merged cell's value is in its top-left cell only
    ]);
    assert.equal(read.extraction.pages[0]?.text, 'id: 1\ndate: 2024-03-01\nqty: 2\nprice: 5.5\ntotal: 11\nnote: first');
    const format = await fx.formats().identify(await bookPath(), undefined, { maxBytes: 1e8, maxPages: 10 });
    const part = await format.extract(await bookPath(), { from: 2, to: 3 }, undefined, { sheet: 'Orders' });
    assert.deepEqual(part.pages.map((p) => [p.page, p.cells?.id]), [[3, 3]], 'a range of rows, numbered in the sheet');
  });

  void test('a sheet that is not there, or has no rows, is invalid_sheet naming the sheets there are', async () => {
    await rejectsWithCode(fx.read(await bookPath(), { sheet: 'Invoices' }), 'invalid_sheet', /no sheet named "Invoices"; it has "Notes", "Orders", "Empty"/);
    await rejectsWithCode(fx.read(await bookPath(), { sheet: 'Empty' }), 'invalid_sheet', /no header row/);
  });

  void test('not a workbook: a .xlsx that is no ZIP, a cut-off workbook, a ZIP of something else', async () => {
    await rejectsWithCode(fx.read(await fx.file('text.xlsx', 'id,name\n1,a\n')), 'invalid_sheet', /not a ZIP/);
    const whole = await workbook();
    await rejectsWithCode(fx.read(await fx.file('cut.xlsx', whole.subarray(0, Math.floor(whole.length / 2)))), 'invalid_sheet');
    // A workbook's ZIP with its sheets renamed away: a ZIP called .xlsx that holds no sheet.
    const renamed = Buffer.from(whole).toString('latin1').replaceAll('xl/worksheets/sheet', 'xl/worksheets/other');
    await rejectsWithCode(fx.read(await fx.file('nosheet.xlsx', Buffer.from(renamed, 'latin1'))), 'invalid_sheet', /no sheet/);
  });
});

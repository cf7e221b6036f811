// CSV formula injection: which text cells are guarded with a leading `'`, in result downloads
// (every text cell) and in `ream rows` output (only the columns ream adds); XLSX needs no guard
// because its text cells are strings, never formulas.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { openTableWriter } from '../../src/cli/table-writers.ts';
import { escapeFormula, looksLikeFormula } from '../../src/exports/csv-formulas.ts';
import type { ResultTable } from '../../src/exports/result-table.ts';
import { encodeTable } from '../../src/exports/table-stream.ts';
import type { CellValue } from '../../src/formats/types.ts';

const RISKY = ['=1+1', '+1+1', '-2+3+cmd|\' /C calc\'!A0', '@SUM(A1:A2)', '\t=1+1', '\r=1+1', '=HYPERLINK("http://evil.example","x")', '-', '+', '=', '-3-', '-A1'];
const SAFE = ['1+1', 'plain', '', ' =1+1', '-3', '+12', '-1,234.50', '-2.5e3', '3-1', 'a=b', "'=1+1"];

void test('text starting with =, +, -, @, tab or CR is a formula, a plain signed number is not', () => {
  for (const text of RISKY) {
    assert.ok(looksLikeFormula(text), JSON.stringify(text));
    assert.equal(escapeFormula(text), `'${text}`);
  }
  for (const text of SAFE) {
    assert.ok(!looksLikeFormula(text), JSON.stringify(text));
    assert.equal(escapeFormula(text), text);
  }
});

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield await Promise.resolve(item);
}

function table(header: string[], rows: CellValue[][]): ResultTable {
  return { header, rows: from(rows) };
}

const ROWS: CellValue[][] = [
  ['=1+1', -3, '-3', null, true],
  ['@cmd', 1.5, '\tx', '-2+3', false],
];

void test('a CSV download escapes text cells, never numbers written by ream; keep leaves them', async () => {
  const escaped: string[][] = parse(await buffer(encodeTable(table(['=h', 'n', 's', 'e', 'b'], ROWS), 'csv')));
  assert.deepEqual(escaped, [
    ["'=h", 'n', 's', 'e', 'b'],
    ["'=1+1", '-3', '-3', '', 'true'],
    ["'@cmd", '1.5', "'\tx", "'-2+3", 'false'],
  ]);
  const kept: string[][] = parse(await buffer(encodeTable(table(['=h', 'n', 's', 'e', 'b'], ROWS), 'csv', { formulas: 'keep' })));
  assert.deepEqual(kept[1], ['=1+1', '-3', '-3', '', 'true']);
  assert.deepEqual(kept[2], ['@cmd', '1.5', '\tx', '-2+3', 'false']);
});

void test('an XLSX download writes =1+1 as a string cell, not a formula: it needs no prefix', async () => {
  const bytes = await buffer(encodeTable(table(['text', 'number'], [['=1+1', -3]]), 'xlsx'));
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(bytes as unknown as ArrayBuffer);
  const cell = book.worksheets[0]?.getCell('A2');
  assert.ok(cell);
  assert.equal(cell.type, ExcelJS.ValueType.String);
  assert.equal(cell.value, '=1+1');
  assert.equal(cell.formula, undefined);
  assert.equal(book.worksheets[0]?.getCell('B2').value, -3);
  // In the sheet's XML: a string-typed value and no <f> (formula) element, which is all a spreadsheet evaluates.
  const xml = (await (await JSZip.loadAsync(bytes)).file('xl/worksheets/sheet1.xml')?.async('string')) ?? '';
  assert.match(xml, /<c r="A2" t="str"><v>=1\+1<\/v><\/c>/);
  assert.doesNotMatch(xml, /<f[ >]/);
});

void test('ream rows output: the input columns are written back as they are, only the added columns are guarded', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-csv-formulas-'));
  try {
    const out = join(dir, 'out.csv');
    // Two input columns (the user's), then a field and the error columns ream adds.
    const writer = await openTableWriter(out, ['=input', 'amount', '=field', 'error_code', 'error_message'], 'Sheet1', 2);
    await writer.write(['=SUM(A1:A3)', '-3+1', '=HYPERLINK("x")', null, '@oops']);
    await writer.close();
    const rows: string[][] = parse(await readFile(out));
    assert.deepEqual(rows, [
      ['=input', 'amount', "'=field", 'error_code', 'error_message'],
      ['=SUM(A1:A3)', '-3+1', `'=HYPERLINK("x")`, '', "'@oops"],
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

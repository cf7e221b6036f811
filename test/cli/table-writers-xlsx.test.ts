// `ream rows --out x.xlsx` writes what an XLSX can hold, as the HTTP download does: a cell past
// Excel's 32,767 characters cut with the same mark, control characters XML cannot hold left out
// (and counted for the summary), and a table wider than a sheet refused with resource_limit
// before any file is made.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import ExcelJS from 'exceljs';
import { formatRowsSummary } from '../../src/cli/rows-command.ts';
import { openTableWriter } from '../../src/cli/table-writers.ts';
import { ReamError } from '../../src/errors.ts';
import { encodeTable } from '../../src/exports/table-stream.ts';
import { XLSX_MAX_CELL_CHARS, XLSX_MAX_COLUMNS } from '../../src/exports/xlsx-cells.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-xlsx-writer-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const resourceLimit = (error: unknown): boolean => error instanceof ReamError && error.code === 'resource_limit';

test('a long cell is cut with the download\'s mark; control characters but tab and line breaks are left out, and counted', async () => {
  const out = join(dir, 'cells.xlsx');
  const before = XLSX_MAX_CELL_CHARS - 5; // the cut (32,763 characters and the mark) falls inside the emoji after these
  const long = `${'x'.repeat(before)}😀${'y'.repeat(10_000)}`;
  const writer = await openTableWriter(out, ['long', 'controls'], 'Sheet1');
  await writer.writeRows([[long, 'a\u0001b\tc\nd\re\u007ff\uFFFEg\uD800h'], ['plain', 'text']]);
  assert.equal(writer.cellsWithDroppedCharacters(), 1);
  await writer.close();

  const book = new ExcelJS.Workbook();
  await book.xlsx.readFile(out); // the file opens: no character XML refuses is in it
  const row = book.getWorksheet('Sheet1')?.getRow(2);
  const cut = row?.getCell(1).value;
  assert.ok(typeof cut === 'string');
  // Compared as booleans and lengths: a diff of 32,767 characters says nothing.
  assert.equal(cut === `${'x'.repeat(before)} […]`, true, `cut before the emoji, not between its halves (${cut.length} characters, ending ${JSON.stringify(cut.slice(-8))})`);
  // Tab and line breaks kept (a lone CR reads back as LF: XML readers end lines so, §2.11).
  assert.equal(row?.getCell(2).value, 'ab\tc\nd\nefgh');
  assert.match(formatRowsSummary({ rows: 2, failedRows: 0, batches: 1, wallSeconds: 1, interrupted: false, cellsWithDroppedCharacters: 1 }, 'in.csv', out), /note: 1 cell\(s\) written without control characters/);
});

test(`a table of more than ${XLSX_MAX_COLUMNS} columns is refused with resource_limit, and no file is left`, async () => {
  const out = join(dir, 'wide.xlsx');
  const header = Array.from({ length: XLSX_MAX_COLUMNS + 1 }, (_, i) => `c${i}`);
  await assert.rejects(openTableWriter(out, header, 'Sheet1'), resourceLimit);
  assert.equal(existsSync(`${out}.partial`), false);
  assert.equal(existsSync(out), false);
  assert.throws(() => encodeTable({ header, rows: (async function* () {})() }, 'xlsx'), resourceLimit, 'the download refuses it before sending a byte');
  const csv = await openTableWriter(join(dir, 'wide.csv'), header);
  await csv.close(); // a CSV has no such limit
});

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { endAfter, startBefore, type CsvEnd } from '../../src/formats/sheet/csv-index.ts';
import { MARK_EVERY } from '../../src/formats/sheet/row-marks.ts';
import { CSV_DELIMITERS, csvRecordsParsed, MAX_CSV_RECORD_BYTES, guessDelimiter, ONE_COLUMN_DELIMITER } from '../../src/formats/sheet/csv-rows.ts';
import { tasks, type SheetInspectResult } from '../../src/formats/sheet/sheet-tasks.ts';
import type { Extraction } from '../../src/formats/types.ts';
import { fromJson } from '../../src/json.ts';
import type { ReamError } from '../../src/errors.ts';
import { CSV_MEDIA_TYPE } from '../../src/formats/sniff.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { corpusDir, requireCorpus } from '../support/env.ts';
import { cellsOf, invoiceRow, limits, sheetFixture, toCsv } from './sheet-files.ts';

const header = ['name', 'note', 'amount'];
/** Values that break naive splitting: delimiters, quotes and line breaks inside fields, non-ASCII. */
const body = [
  ['Smith; Jones', 'said "hello", then left', '12.50'],
  ['Müller', 'line one\nline two\r\nline three', '-3'],
  ['', 'name left empty', '0'],
  ['O|Brien\tjr', 'pipe, tab and comma', '1e3'],
];

void describe('CSV format', () => {
  const fx = sheetFixture();

  void test('BOM, ; delimiter, quoted line breaks and quotes: every cell as written, the header excluded from the rows', async () => {
    const path = await fx.file('bom.csv', `\ufeff${toCsv([header, ...body], ';')}`);
    const read = await fx.read(path);
    assert.equal(read.mediaType, CSV_MEDIA_TYPE);
    assert.equal(read.inspection.pageCount, body.length, 'a page per data row');
    assert.deepEqual(read.inspection.metadata.columns, header, 'the BOM is not part of the first column name');
    assert.deepEqual(cellsOf(read), body);
    assert.deepEqual(read.extraction.pages.map((p) => p.page), body.map((_, i) => i + 1));
    assert.deepEqual(read.extraction.failures, []);
    const [, second] = read.extraction.pages;
    assert.equal(second?.text, 'name: Müller\nnote: line one line two line three\namount: -3', 'one line per cell, for the analyzers');
  });

  void test("Excel's first line `sep=;` names the delimiter and is no row, after a BOM too, scanned or parsed", async () => {
    // Many rows, crossing marks: scanned (csv-scan.ts) at inspection, read in batches from marks.
    const many = Array.from({ length: 2_500 }, (_, i) => [`Item ${i}`, `${i},5`, 'x']);
    const scanned = await fx.read(await fx.file('sep-many.csv', `\ufeffsep=;\r\n${toCsv([header, ...many], ';')}`));
    assert.deepEqual(scanned.inspection.metadata.columns, header, 'the sep line is not the header');
    assert.equal(scanned.inspection.pageCount, many.length);
    assert.deepEqual(cellsOf(scanned), many);
    // Quoted line breaks of both kinds: the scan gives up and csv-parse reads it.
    const parsed = await fx.read(await fx.file('sep-parsed.csv', `sep=|\n${toCsv([header, ...body], '|')}`));
    assert.deepEqual(parsed.inspection.metadata.columns, header);
    assert.deepEqual(cellsOf(parsed), body);
    // A tab, and a file of nothing but the declaration.
    assert.deepEqual(cellsOf(await fx.read(await fx.file('sep-tab.csv', 'sep=\t\na,b\tc\n1,5\t2\n'))), [['1,5', '2']]);
    await rejectsWithCode(fx.read(await fx.file('sep-only.csv', 'sep=;\n')), 'invalid_sheet');
  });

  void test('the delimiter is found among , ; tab | whichever the file uses', async () => {
    for (const delimiter of CSV_DELIMITERS) {
      const path = await fx.file(`d${CSV_DELIMITERS.indexOf(delimiter)}.csv`, toCsv([header, ...body], delimiter, '\n'));
      assert.deepEqual(cellsOf(await fx.read(path)), body, `delimiter ${JSON.stringify(delimiter)}`);
    }
    assert.equal(guessDelimiter('a;b\n"1,5";"2,5"\n"3,1";"4,2"\n'), ';', 'commas inside quotes do not count');
    assert.equal(guessDelimiter('single column\nvalue\n'), ONE_COLUMN_DELIMITER, 'no delimiter at all: one column');
    assert.equal(guessDelimiter('a;b\n1;2,5\n3;4,5\n5;6,5\n'), ';', 'a , in every row but not in the header is text');
  });

  void test('a header without any delimiter is one column: a , or ; in its rows is text, not a second cell', async () => {
    const path = await fx.file('one-column.csv', 'name\nAcme, Inc\nFoo; Bar\n"Quoted, too"\nTab\there | pipe\n');
    const read = await fx.read(path);
    assert.deepEqual(read.inspection.metadata.columns, ['name']);
    assert.deepEqual(cellsOf(read), [['Acme, Inc'], ['Foo; Bar'], ['Quoted, too'], ['Tab\there | pipe']]);
    assert.deepEqual(read.extraction.failures, []);
  });

  void test('extract reads only its row range, numbered as rows of the whole table', async () => {
    const rows = Array.from({ length: 25 }, (_, i) => [`r${i + 1}`, String(i * i)]);
    const path = await fx.file('range.csv', toCsv([['id', 'square'], ...rows]));
    const format = await fx.formats().identify(path, undefined, limits);
    const part = await format.extract(path, { from: 10, to: 13 });
    assert.deepEqual(part.pages.map((p) => [p.page, p.cells?.id, p.cells?.square]), rows.slice(10, 13).map((r, i) => [11 + i, r[0], r[1]]));
    const past = await format.extract(path, { from: 24, to: 27 });
    assert.deepEqual(past.pages.map((p) => p.page), [25]);
    assert.deepEqual(past.failures.map((f) => [f.page, f.code]), [[26, 'invalid_sheet'], [27, 'invalid_sheet']], 'rows past the end are accounted for');
  });

  void test('ragged rows: a row wider than the header fails alone with invalid_sheet; a shorter one is padded', async () => {
    const path = await fx.file('ragged.csv', 'a,b,c\n1,2,3\n4,5,6,7\n8,9\n10,11,12,,\n');
    const read = await fx.read(path);
    assert.equal(read.inspection.pageCount, 4);
    assert.deepEqual(read.extraction.pages.map((p) => [p.page, p.cells]), [
      [1, { a: '1', b: '2', c: '3' }],
      [3, { a: '8', b: '9', c: null }],
      [4, { a: '10', b: '11', c: '12' }],
    ], 'empty trailing fields are no extra data');
    assert.deepEqual(read.extraction.failures, [{ page: 2, code: 'invalid_sheet', message: 'row 2 has 4 cells; the header has 3 columns' }]);
  });

  void test('a byte that is not UTF-8 past the first 4 KB: invalid_sheet naming where, not a dead thread', async () => {
    const rows = Array.from({ length: 1_000 }, (_, i) => Buffer.from(`${i + 1},${i === 499 ? 'Caf\xe9' : 'plain text here'}\n`, 'latin1'));
    const path = await fx.file('late-latin1.csv', Buffer.concat([Buffer.from('id,name\n'), ...rows]));
    // Row by row (ream rows): that row fails alone.
    const rowsRead = await fx.read(path);
    assert.deepEqual(rowsRead.extraction.failures.map((f) => [f.page, f.code]), [[500, 'invalid_sheet']]);
    // As pages of text (ream run's extract pipeline), the file is streamed: it fails at that byte.
    await rejectsWithCode(fx.read(path, { tablePages: 'sheets' }), 'invalid_sheet', /bytes \d+–\d+ holds bytes that are not UTF-8/);
    // The pool thread that read it is alive and reads the next file.
    assert.equal((await fx.read(await fx.file('after.csv', 'a,b\n1,2\n'), { tablePages: 'sheets' })).inspection.pageCount, 1);
  });

  void test('bad input ends with a stable code: empty file, blank lines only, header only, an unclosed quote, too many rows', async () => {
    await rejectsWithCode(fx.read(await fx.file('empty.csv', '')), 'empty_file');
    await rejectsWithCode(fx.read(await fx.file('blank.csv', '\r\n\r\n,,\r\n')), 'invalid_sheet', /no header row/);
    await rejectsWithCode(fx.read(await fx.file('header.csv', 'a,b\n')), 'invalid_sheet', /no data rows/);
    await rejectsWithCode(fx.read(await fx.file('quote.csv', 'a,b\n"x,1\n2,3\n')), 'invalid_sheet', /cannot be parsed/);
    const many = await fx.file('many.csv', toCsv([['n'], ...Array.from({ length: 30 }, (_, i) => [String(i)])]));
    await rejectsWithCode(fx.read(many, undefined, { ...limits, maxPages: 29 }), 'too_many_pages');
    assert.equal((await fx.read(many, undefined, { ...limits, maxPages: 30 })).inspection.pageCount, 30);
  });

  void test('the corpus CSV (sklearn wine_data): its rows are counted and each read or refused with a stable code', async (t) => {
    if (!requireCorpus(t)) return;
    const path = join(corpusDir, 'python3-sklearn__data__wine_data.csv');
    // The reference is a plain split: the file has no quotes, so lines and commas are its cells.
    const [first = '', ...lines] = (await readFile(path, 'utf8')).split(/\r?\n/).filter((line) => line.trim() !== '');
    const columns = first.split(',');
    const read = await fx.read(path);
    assert.equal(read.inspection.pageCount, lines.length);
    assert.deepEqual(read.inspection.metadata.columns, columns);
    assert.equal(read.extraction.pages.length + read.extraction.failures.length, lines.length, 'every row accounted for');
    lines.forEach((line, i) => {
      const cells = line.split(',');
      const page = read.extraction.pages.find((p) => p.page === i + 1);
      if (cells.length <= columns.length) return assert.deepEqual(page?.cells && Object.values(page.cells), cells, `row ${i + 1}`);
      // sklearn's first line is a summary (178 rows, 13 features, class names), not a header of
      // 14 columns: every row is wider than it, and says so.
      const failure = read.extraction.failures.find((f) => f.page === i + 1);
      assert.deepEqual(failure && [failure.code, failure.message], ['invalid_sheet', `row ${i + 1} has ${cells.length} cells; the header has ${columns.length} columns`]);
    });
  });

  void test('a read resumes at the last row mark before its range: the same rows, a fraction of the parsing', async () => {
    // The tasks run here, in this thread, so that the thread's marks and parse count are visible.
    const count = 3 * MARK_EVERY + 250;
    const rows = Array.from({ length: count }, (_, i) => invoiceRow(i + 1)); // quoted line breaks, `;` and `"`
    const path = await fx.file('marks.csv', `\ufeff${toCsv([['name', 'note', 'amount'], ...rows], ';')}`);
    const extract = async (from: number, to: number): Promise<Extraction> =>
      fromJson<Extraction>(await tasks['sheet.extract']!({ path, mediaType: CSV_MEDIA_TYPE, from, to }));
    const expectRows = (read: Extraction, from: number, to: number): void =>
      assert.deepEqual(read.pages.map((p) => [p.page, ...Object.values(p.cells ?? {})]), rows.slice(from, to).map((r, i) => [from + i + 1, ...r]));

    let before = csvRecordsParsed();
    const first = await extract(count - 20, count);
    expectRows(first, count - 20, count);
    assert.ok(csvRecordsParsed() - before >= count, 'the first read parses everything before its range');
    const ranges: Array<[number, number]> = [[MARK_EVERY - 2, MARK_EVERY + 2], [2 * MARK_EVERY, 2 * MARK_EVERY + 5], [3 * MARK_EVERY + 100, 3 * MARK_EVERY + 110], [0, 3]];
    for (const [from, to] of ranges) {
      before = csvRecordsParsed();
      expectRows(await extract(from, to), from, to);
      const parsed = csvRecordsParsed() - before;
      assert.ok(parsed <= (from % MARK_EVERY) + (to - from) + 2, `rows ${from + 1}–${to}: ${parsed} records parsed, from the mark before them`);
    }
  });

  void test('a range whose end the inspection marked is parsed as one batch: the same rows as the streamed read', async () => {
    const count = 3 * MARK_EVERY + 40;
    const rows = Array.from({ length: count }, (_, i) => invoiceRow(i + 1)); // quoted line breaks, `;` and `"`
    const path = await fx.file('batch.csv', `\ufeff${toCsv([['name', 'note', 'amount'], ...rows], ';')}\r\n\r\n`);
    const inspected = fromJson<SheetInspectResult>(await tasks['sheet.inspect']!({ path, mediaType: CSV_MEDIA_TYPE, maxRows: count }));
    const marks = inspected.csvMarks;
    assert.ok(marks);
    for (const [from, to] of [[0, MARK_EVERY], [MARK_EVERY, 2 * MARK_EVERY + 7], [3 * MARK_EVERY, count + 2]] as const) {
      const csvStart = startBefore(marks, from);
      const csvEnd: CsvEnd = endAfter(marks, to);
      const bounds = { ...(csvStart ? { csvStart } : {}), csvEnd };
      const batch = fromJson<Extraction>(await tasks['sheet.extract']!({ path, mediaType: CSV_MEDIA_TYPE, from, to, ...bounds }));
      const streamed = fromJson<Extraction>(await tasks['sheet.extract']!({ path, mediaType: CSV_MEDIA_TYPE, from, to, ...(csvStart ? { csvStart } : {}) }));
      assert.deepEqual(batch, streamed, `rows ${from + 1}–${to}`);
      assert.equal(batch.pages.length, Math.min(to, count) - from);
    }
  });

  void test('a thread that never read the file starts at the mark the inspection found, not at the top', async () => {
    const count = 3 * MARK_EVERY + 40;
    const rows = Array.from({ length: count }, (_, i) => invoiceRow(i + 1));
    const path = await fx.file('inspected.csv', toCsv([['name', 'note', 'amount'], ...rows], ';'));
    const inspected = fromJson<SheetInspectResult>(await tasks['sheet.inspect']!({ path, mediaType: CSV_MEDIA_TYPE, maxRows: count }));
    assert.equal(inspected.rowCount, count);
    assert.deepEqual(inspected.csvMarks?.marks.map(([rowsBefore]) => rowsBefore), [MARK_EVERY, 2 * MARK_EVERY, 3 * MARK_EVERY]);
    // This thread forgets the file (it keeps the marks of a few files only), as a fresh thread has none.
    for (let i = 0; i < 5; i++) await tasks['sheet.inspect']!({ path: await fx.file(`other-${i}.csv`, 'a,b\n1,2\n'), mediaType: CSV_MEDIA_TYPE, maxRows: 10 });
    const from = 2 * MARK_EVERY + 10;
    const csvStart = inspected.csvMarks && startBefore(inspected.csvMarks, from);
    assert.deepEqual(csvStart && [csvStart.rowsBefore, csvStart.delimiter], [2 * MARK_EVERY, ';']);
    const before = csvRecordsParsed();
    const read = fromJson<Extraction>(await tasks['sheet.extract']!({ path, mediaType: CSV_MEDIA_TYPE, from, to: from + 5, ...(csvStart ? { csvStart } : {}) }));
    assert.deepEqual(read.pages.map((p) => [p.page, ...Object.values(p.cells ?? {})]), rows.slice(from, from + 5).map((r, i) => [from + i + 1, ...r]));
    const parsed = csvRecordsParsed() - before;
    assert.ok(parsed <= 10 + 5 + 2, `${parsed} records parsed: from the given mark`);
  });

  void test('a row longer than 8 MiB fails the table with resource_limit at once, scanned or parsed, as rows or as sheet pages', { timeout: 60_000 }, async () => {
    const field = 'a'.repeat(MAX_CSV_RECORD_BYTES + 100);
    const files = {
      // Quoted: the byte scan reads it.
      'quoted.csv': `id,text\n1,"${field}"\n2,b\n`,
      // A stray quote in an unquoted field: the scan gives up and csv-parse reads it.
      'parsed.csv': `id,text\n1,x"y\n2,${field}\n3,c\n`,
    };
    for (const [name, text] of Object.entries(files)) {
      const path = await fx.file(name, text);
      for (const options of [{}, { tablePages: 'sheets' as const }]) {
        await assert.rejects(fx.read(path, options), (error: ReamError) => {
          assert.equal(error.code, 'resource_limit', `${name} ${JSON.stringify(options)}: ${error.message}`);
          assert.match(error.message, /^a row of the CSV( \(the one at byte 8\))? is longer than 8 MiB; ream reads rows of at most that$/);
          return true;
        });
      }
    }
    // Just under the limit: read.
    const under = await fx.file('under.csv', `id,text\n1,"${'a'.repeat(MAX_CSV_RECORD_BYTES - 10)}"\n`);
    assert.equal((await fx.read(under)).extraction.pages[0]?.cells?.text?.toString().length, MAX_CSV_RECORD_BYTES - 10);
  });
});

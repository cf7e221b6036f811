// A batch of a workbook's rows costs about its own rows: the workbook's parts (shared strings,
// styles) are parsed once per file per thread, and a batch starts at the mark before its rows,
// whose row elements are cut out of the sheet's XML before exceljs parses it, or where the
// thread's last batch stopped. Counted, not timed: how often exceljs parses the shared strings,
// how many rows it hands over, how many bytes are inflated.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import ExcelJS from 'exceljs';
import { XLSX_MEDIA_TYPE } from '../../src/formats/sniff.ts';
import { tasks, type SheetInspectResult } from '../../src/formats/sheet/sheet-tasks.ts';
import { xlsxStartBefore } from '../../src/formats/sheet/xlsx-index.ts';
import { RowCursor } from '../../src/formats/sheet/xlsx-skip.ts';
import type { PackedRows, StoredRow } from '../../src/formats/types.ts';
import { asJson, fromJson, type JsonValue } from '../../src/json.ts';

const ROWS = 5_000;
let dir: string;
let book: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-xlsx-marks-'));
  book = join(dir, 'book.xlsx');
  const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: book, useSharedStrings: true });
  const sheet = writer.addWorksheet('Data');
  sheet.addRow(['id', 'name']).commit();
  for (let i = 1; i <= ROWS; i++) {
    sheet.addRow([i, `name ${i}`]).commit();
    if (i % 7 === 0) sheet.addRow([null, '']).commit(); // blank: a row element that is no data row
  }
  sheet.commit();
  await writer.commit();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What exceljs did, counted through the prototype xlsx-rows.ts's reader is made from. */
const counted = { sharedStrings: 0, rows: 0 };
// Function properties, not methods: they are taken off the prototype and called with its `this`.
type Parsers = { _parseSharedStrings: (...args: unknown[]) => unknown; _parseWorksheet: (...args: unknown[]) => Iterable<{ value: AsyncIterable<unknown> }> };
const parsers = ExcelJS.stream.xlsx.WorkbookReader.prototype as unknown as Parsers;
const { _parseSharedStrings: parseStrings, _parseWorksheet: parseSheet } = parsers;
parsers._parseSharedStrings = function (this: unknown, ...args: unknown[]) {
  counted.sharedStrings++;
  return parseStrings.apply(this, args);
};
parsers._parseWorksheet = function* (this: unknown, ...args: unknown[]) {
  for (const event of parseSheet.apply(this, args)) {
    const rows = event.value[Symbol.asyncIterator].bind(event.value);
    event.value[Symbol.asyncIterator] = async function* () {
      for await (const row of { [Symbol.asyncIterator]: rows }) {
        counted.rows++;
        yield row;
      }
    };
    yield event;
  }
};

const run = async <T>(task: string, input: JsonValue): Promise<T> => fromJson<T>(await (tasks[task] as (input: JsonValue) => Promise<JsonValue>)(input));

async function batch(path: string, from: number, to: number, extra: object = {}): Promise<StoredRow[]> {
  const packed = await run<PackedRows>('sheet.extractPacked', asJson({ path, mediaType: XLSX_MEDIA_TYPE, from, to, rules: [], ...extra }));
  return (JSON.parse(packed.body) as { pages: StoredRow[] }).pages;
}

const expected = (from: number, to: number): StoredRow[] => Array.from({ length: to - from }, (_, i) => ({ page: from + i + 1, values: [from + i + 1, `name ${from + i + 1}`] }));

test('a batch parses the shared strings once per file per thread, and no row before its mark', async () => {
  const shape = await run<SheetInspectResult>('sheet.inspect', { path: book, mediaType: XLSX_MEDIA_TYPE, maxRows: 10 * ROWS });
  assert.equal(shape.rowCount, ROWS);
  assert.equal(counted.sharedStrings, 1);
  assert.equal(shape.xlsxMarks?.marks.length, ROWS / 1000, 'a mark every 1,000 data rows');

  counted.rows = 0;
  assert.deepEqual(await batch(book, 4200, 4300), expected(4200, 4300));
  assert.equal(counted.sharedStrings, 1, 'the shared strings are not parsed again for the batch');
  assert.ok(counted.rows < 400, `rows 4,001–4,301 and their blank rows parsed, not the 4,800 before them (parsed: ${counted.rows})`);
  assert.deepEqual(await batch(book, 0, 3), expected(0, 3), 'a batch before the last mark reads from its own mark');

  // Another thread (here: a file it never read) takes the mark the inspection handed over.
  const copy = join(dir, 'copy.xlsx');
  await copyFile(book, copy);
  const start = shape.xlsxMarks && xlsxStartBefore(shape.xlsxMarks, 3500);
  assert.ok(start);
  counted.rows = 0;
  assert.deepEqual(await batch(copy, 3500, 3600, { xlsxStart: start }), expected(3500, 3600));
  assert.equal(counted.sharedStrings, 2, "the copy's own, once");
  assert.ok(counted.rows < 800, `rows 3,001–3,601 parsed, not the 4,000 before them (parsed: ${counted.rows})`);
});

/** Bytes inflated from the ZIP's deflate streams (unzipper makes one per entry read, through `zlib`). */
let inflated = 0;
const createInflateRaw = zlib.createInflateRaw;
Object.defineProperty(zlib, 'createInflateRaw', {
  value: (...args: Parameters<typeof createInflateRaw>) => {
    const inflate = createInflateRaw(...args);
    inflate.on('data', (chunk: Buffer) => (inflated += chunk.length));
    return inflate;
  },
});

test("batches read in turn on a thread inflate the sheet's XML about once, not once per batch", async () => {
  const copy = join(dir, 'turns.xlsx');
  await copyFile(book, copy);
  inflated = 0;
  await run('sheet.inspect', { path: copy, mediaType: XLSX_MEDIA_TYPE, maxRows: 10 * ROWS });
  const sheetBytes = inflated;
  inflated = 0;
  const size = 500;
  for (let from = 0; from < ROWS; from += size) assert.deepEqual(await batch(copy, from, from + size), expected(from, from + size));
  // Each batch from the sheet's top inflated 10 + 9 + … + 1 tenths of it: 5.5 times its size.
  assert.ok(inflated < 1.5 * sheetBytes, `inflated ${inflated} bytes for a sheet (and parts) of ${sheetBytes}`);
});

/** `chunks` as a stream gives them, a step each. */
async function* inChunks(chunks: readonly Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield await Promise.resolve(chunk);
}

test('cutting row elements: comments, CDATA and <rowBreaks> are not rows; chunk bounds anywhere, a character cut in two', async () => {
  const xml =
    '<worksheet><sheetData><!-- <row r="0"></row> --><row r="1" spans="1:2"><c r="A1" t="inlineStr"><is><t><![CDATA[</row>]]>é</t></is></c></row>' +
    '<row r="2"/><row r="3" x="a>b"><c r="A3"><v>3</v></c></row><row r="4"><c r="A4"><v>4</v></c></row></sheetData><rowBreaks count="0"/></worksheet>';
  const bytes = Buffer.from(xml);
  for (const size of [1, 2, 5, 9, 64, bytes.length]) {
    const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
    const cursor = new RowCursor(inChunks(chunks));
    await cursor.skip(3);
    let text = '';
    for await (const part of cursor.elements()) text += part;
    assert.equal(text, '<worksheet><sheetData><!-- <row r="0"></row> --><row r="4"><c r="A4"><v>4</v></c></row></sheetData><rowBreaks count="0"/></worksheet>', `chunks of ${size} bytes`);
  }
  let whole = '';
  for await (const part of new RowCursor(inChunks([bytes])).elements()) whole += part;
  assert.equal(whole, xml, 'nothing cut: the text as it is, é whole');
});

// Tables read as documents (`tablePages: "sheets"`, what the extract, rules and llm pipelines
// ask for): a page per sheet, its rows tab-separated under its header, the sheet's name on the
// page; long sheets in pages of SHEET_PAGE_ROWS rows, the header on each; through the engine,
// indexed for search like any page, while the rows pipeline still reads a row a page.
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SHEET_PAGE_ROWS } from '../../src/formats/sheet/sheet-pages.ts';
import { CSV_MEDIA_TYPE } from '../../src/formats/sniff.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { limits, ordersWorkbook, sheetFixture, toCsv } from './sheet-files.ts';

const SHEETS = { tablePages: 'sheets' } as const;

void describe('tables as documents: text per sheet', () => {
  const fixture = sheetFixture();

  void test('a file rewritten in place at the same size and time is counted again when its sha256 is given, not from what was kept of the old one', async () => {
    const rowsOf = (count: number, width: number) => toCsv([['id', 'note'], ...Array.from({ length: count }, (_, i) => [String(i).padStart(4, '0'), 'x'.repeat(width)])]);
    const long = rowsOf(1_500, 10); // 2 pages of up to 1,000 rows
    const short = rowsOf(500, 52); // 1 page, of the same size: 500 rows of 63 bytes for 1,500 of 21
    assert.equal(Buffer.byteLength(short), Buffer.byteLength(long));
    const path = await fixture.file('rewritten.csv', long);
    const time = new Date('2026-01-01T00:00:00Z');
    await utimes(path, time, time);
    const first = await fixture.read(path, { ...SHEETS, sha256: 'a'.repeat(64) });
    assert.equal(first.inspection.pageCount, 2);
    await writeFile(path, short);
    await utimes(path, time, time); // as if within the clock's granularity: the same time
    const second = await fixture.read(path, { ...SHEETS, sha256: 'b'.repeat(64) });
    assert.equal(second.inspection.pageCount, 1, 'counted from the new content');
    assert.equal(second.extraction.pages[0]?.text.split('\n').length, 501);
  });

  void test('a workbook: a page per sheet with a header row, tab-separated, the sheet named on its page', async () => {
    const path = await fixture.file('book.xlsx', await ordersWorkbook());
    const { inspection, extraction } = await fixture.read(path, SHEETS);
    assert.equal(inspection.pageCount, 2, 'the sheet "Empty" has no header row: no page');
    assert.deepEqual(inspection.metadata.sheets, ['Notes', 'Orders']);
    assert.equal(inspection.metadata.pageUnit, 'sheet');
    assert.deepEqual(extraction.pages.map((page) => [page.page, page.sheet]), [[1, 'Notes'], [2, 'Orders']]);
    assert.equal(extraction.pages[0]?.text, 'topic\tdone\ntaxes\ttrue\nrent\tfalse');
    assert.deepEqual(extraction.pages[1]?.text.split('\n'), [
      'id\tdate\tqty\tprice\ttotal\tnote',
      '1\t2024-03-01\t2\t5.5\t11\tfirst',
      '2\t2024-03-02T13:30:00.000Z\t3\t1\t3\tbold and plain',
      '3\t\t1\t2\t\tmerged note',
      '4\t2024-03-01',
    ]);
    assert.equal(extraction.pages[1]?.cells, undefined, 'cells are the rows reading\'s');
    const one = await fixture.read(path, { ...SHEETS, sheet: 'Orders' });
    assert.deepEqual(one.extraction.pages.map((page) => page.sheet), ['Orders'], 'the sheet option keeps one sheet');
  });

  void test(`a long CSV: pages of ${SHEET_PAGE_ROWS} rows, the header on each; a ragged row kept whole; a range read alone`, async () => {
    const rows = Array.from({ length: 2 * SHEET_PAGE_ROWS + 500 }, (_, i) => [`r${i + 1}`, `tab\there`, `line\nbreak`]);
    rows[10] = [...(rows[10] ?? []), 'extra cell'];
    const path = await fixture.file('long.csv', toCsv([['name', 'a', 'b'], ...rows]));
    const { inspection, extraction } = await fixture.read(path, SHEETS);
    assert.equal(inspection.mediaType, CSV_MEDIA_TYPE);
    assert.equal(inspection.pageCount, 3);
    assert.equal(inspection.metadata.sheets, undefined, 'a CSV has no sheet names');
    const lines = extraction.pages.map((page) => page.text.split('\n'));
    assert.deepEqual(lines.map((l) => [l.length, l[0], l[1], l.at(-1)?.split('\t')[0]]), [
      [SHEET_PAGE_ROWS + 1, 'name\ta\tb', 'r1\ttab here\tline break', `r${SHEET_PAGE_ROWS}`],
      [SHEET_PAGE_ROWS + 1, 'name\ta\tb', `r${SHEET_PAGE_ROWS + 1}\ttab here\tline break`, `r${2 * SHEET_PAGE_ROWS}`],
      [501, 'name\ta\tb', `r${2 * SHEET_PAGE_ROWS + 1}\ttab here\tline break`, `r${2 * SHEET_PAGE_ROWS + 500}`],
    ]);
    assert.equal(lines[0]?.[11], 'r11\ttab here\tline break\textra cell', 'read as text, a cell past the header is no data lost');
    const format = fixture.formats().byMediaType(CSV_MEDIA_TYPE);
    const tail = await format?.extract(path, { from: 2, to: 3 }, undefined, SHEETS);
    assert.deepEqual(tail?.pages.map((page) => [page.page, page.text]), [[3, extraction.pages[2]?.text]]);
    await rejectsWithCode(format?.inspect(path, { ...limits, maxPages: 2 }, undefined, SHEETS) ?? Promise.resolve(), 'too_many_pages');
    await rejectsWithCode(fixture.read(await fixture.file('blank.csv', '\n\n'), SHEETS), 'invalid_sheet', /no sheet has a header row/);
  });

  void test('through the engine: extract reads a workbook as sheets and search finds their words; rows still a row a page', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ream-sheet-pages-'));
    const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
    try {
      const book = join(dir, 'book.xlsx');
      await writeFile(book, await ordersWorkbook());
      const job = await ream.submit({ files: [book] });
      await ream.wait(job.id);
      const [doc] = await Array.fromAsync(ream.results(job.id));
      assert.equal(doc?.status, 'succeeded', JSON.stringify(doc?.error));
      assert.deepEqual(doc.pages.map((page) => page.sheet), ['Notes', 'Orders']);
      const hits = await ream.search('taxes');
      assert.deepEqual(hits.map((hit) => [hit.documentId, hit.page]), [[doc.documentId, 1]]);
      const rows = await ream.submit({ pipeline: 'rows', files: [book], options: { sheet: 'Orders' } });
      await ream.wait(rows.id);
      const [table] = await Array.fromAsync(ream.results(rows.id));
      assert.equal(table?.pageCount, 4, 'the rows pipeline: a page per data row');
      assert.deepEqual(table.pages[0]?.cells?.note, 'first');
    } finally {
      await ream.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

void describe('tables as documents: read in ranges', () => {
  const fixture = sheetFixture();

  void test('a long table read in ranges costs about one read of it, not one per range (its sheets are counted once)', { timeout: 120_000 }, async () => {
    const rows = 100 * SHEET_PAGE_ROWS;
    const lines = ['id,name'];
    for (let i = 1; i <= rows; i++) lines.push(`${i},row ${i}`);
    const path = await fixture.file('long.csv', lines.join('\n'));
    const format = await fixture.formats().identify(path, undefined, limits);
    let started = performance.now();
    const { pageCount } = await format.inspect(path, limits, undefined, SHEETS);
    const counting = performance.now() - started;
    assert.equal(pageCount, 100);
    started = performance.now();
    const texts: string[] = [];
    for (let from = 0; from < pageCount; from += 5) {
      const { pages } = await format.extract(path, { from, to: from + 5 }, undefined, SHEETS);
      texts.push(...pages.map((page) => page.text));
    }
    const reading = performance.now() - started;
    assert.equal(texts.length, 100);
    assert.equal(texts[99]?.split('\n').at(-1), `${rows}\trow ${rows}`);
    // Counted again for each of the 20 ranges, the reading took over 20 countings.
    assert.ok(reading < 6 * counting, `20 ranges took ${Math.round(reading)} ms, one counting ${Math.round(counting)} ms`);
  });
});

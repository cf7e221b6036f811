import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { columnNames } from '../../src/formats/sheet/cells.ts';
import { csvRows, eachCsvRecord, parseCsvRecords } from '../../src/formats/sheet/csv-rows.ts';
import { readBytes, scanCsv } from '../../src/formats/sheet/csv-scan.ts';
import { dataRows } from '../../src/formats/sheet/table.ts';

interface Shape {
  columns: string[] | undefined;
  rowCount: number;
  marks: Array<[number, number]>;
}

/** What a full parse finds (the inspection before the scan): header, data rows, a mark after every `every`-th row. */
async function parsedShape(path: string, delimiter: string, every: number): Promise<Shape> {
  let end = 0;
  let columns: string[] | undefined;
  let rowCount = 0;
  const marks: Array<[number, number]> = [];
  const rows = csvRows(path, { delimiter, onRecordEnd: (offset) => (end = offset) });
  const onRow = (number: number): void => {
    if (number % every === 0) marks.push([number, end]);
  };
  for await (const row of dataRows(rows, (names) => (columns = names), { onRow })) rowCount = row.number;
  return { columns, rowCount, marks };
}

/**
 * The records csv-parse and the scanned file's parser (csv-simple.ts) read from the bytes of the
 * whole file and from each stretch between two marks, which must be the same.
 */
async function sameRecords(path: string, delimiter: string, marks: ReadonlyArray<readonly [number, number]>): Promise<void> {
  const bytes = await readFile(path);
  const bounds = [0, ...marks.map(([, offset]) => offset), bytes.length];
  for (let i = 0; i < bounds.length - 1; i++) {
    for (const [start, end] of [[bounds[i] ?? 0, bounds[i + 1] ?? 0], [bounds[i] ?? 0, bytes.length]] as const) {
      const part = bytes.subarray(start, end);
      const simple: string[][] = [];
      eachCsvRecord(part, delimiter, (record) => simple.push(record), { atFileStart: start === 0 });
      assert.deepEqual(simple, parseCsvRecords(part, delimiter), `${JSON.stringify(bytes.toString())}, bytes ${start}–${end}`);
    }
  }
}

/** What the scan finds, in the same terms; `undefined` when it leaves the file to the parser. */
async function scannedShape(path: string, delimiter: string, every: number): Promise<Shape | undefined> {
  const scan = await scanCsv(path, delimiter, every, Number.MAX_SAFE_INTEGER);
  if (!scan) return undefined;
  const header = scan.header && parseCsvRecords(await readBytes(path, scan.header.start, scan.header.end), delimiter)[0];
  return { columns: header && columnNames(header), rowCount: scan.rowCount, marks: scan.marks };
}

void describe('CSV byte scan', () => {
  let dir = '';
  let n = 0;
  const file = async (text: string | Buffer): Promise<string> => {
    const path = join(dir, `t${n++}.csv`);
    await writeFile(path, text);
    return path;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ream-csv-scan-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void test('finds what the parser finds: BOM, quoted line breaks and delimiters, "" escapes, blank and empty lines, \\r\\n, no final line end', async () => {
    const cases = [
      'a,b\n1,2\n3,4\n5,6\n',
      '\ufeffa,b\r\n"x\r\ny",2\r\n\r\n,\r\n"",""\r\n"q""uote",3\r\n4,5',
      'name;note\n"Smith; J";"said ""hi"", left"\n\n\n;\n" ";x\nlast;row',
      '\n\n,,\nh1,,h1\n1,2,3\n""""\n4\n',
      'a\tb\n1\t"tab\tin"\n',
    ];
    for (const [i, text] of cases.entries()) {
      const delimiter = i === 1 || i === 3 ? ',' : i === 2 ? ';' : i === 4 ? '\t' : ',';
      for (const every of [1, 2]) {
        const path = await file(text);
        const scanned = await scannedShape(path, delimiter, every);
        assert.ok(scanned, `case ${i} is scanned, not left to the parser`);
        assert.deepEqual(scanned, await parsedShape(path, delimiter, every), `case ${i}, a mark every ${every}`);
        await sameRecords(path, delimiter, scanned.marks);
      }
    }
  });

  void test('leaves to the parser what it cannot be sure of: a stray quote, text after a closing quote, mixed or lone \\r line ends, an unclosed quote, UTF-16', async () => {
    const unsure = ['a,b\n1,x"y\n', 'a,b\n"x"y,1\n', 'a,b\r\n1,2\n3,4\r\n', 'a,b\n1,2\r\n', 'a,b\r1,2\r', 'a,b\n"1,2\n', 'a,b\n1,2\r'];
    for (const text of unsure) assert.equal(await scanCsv(await file(text), ',', 1, 100), undefined, JSON.stringify(text));
    assert.equal(await scanCsv(await file(Buffer.from('\ufeffa,b\n', 'utf16le')), ',', 1, 100), undefined, 'a UTF-16 BOM');
  });

  void test('stops counting past maxRows', async () => {
    const scan = await scanCsv(await file(`n\n${'1\n'.repeat(50)}`), ',', 10, 20);
    assert.equal(scan?.rowCount, 21);
  });

  void test('random files: whenever the scan answers, it answers what the parser does', async () => {
    // Seeded, so a failure can be replayed.
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pieces = ['a', 'b', ',', ',', '"', '""', '\n', '\n', '\r\n', ' ', 'é', '\n\n'];
    let scanned = 0;
    for (let i = 0; i < 1000; i++) {
      const length = 1 + Math.floor(random() * 40);
      const text = Array.from({ length }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      const path = await file(text);
      const scan = await scannedShape(path, ',', 1);
      if (!scan) continue;
      scanned++;
      const parsed = await parsedShape(path, ',', 1).catch((error: unknown) => error);
      assert.deepEqual(scan, parsed, JSON.stringify(text));
      await sameRecords(path, ',', scan.marks);
    }
    assert.ok(scanned > 80, `${scanned} of 1000 random files scanned`);
  });

  void test('random well-formed files (quoted fields, escapes, line breaks in quotes, blank lines, \\n or \\r\\n): scanned, and read as csv-parse reads them', async () => {
    let seed = 777;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    let scanned = 0;
    const fields = ['', 'a', 'é€', ' ', '"x""y"', '"a;b"', '"line\nbreak"', '"cr\r\nlf"', '""', '12.5', 'b c'];
    for (let i = 0; i < 300; i++) {
      const eol = random(2) === 0 ? '\n' : '\r\n';
      const records = Array.from({ length: 1 + random(12) }, () => (random(6) === 0 ? '' : Array.from({ length: 1 + random(4) }, () => fields[random(fields.length)]).join(';')));
      const text = `${random(3) === 0 ? '\ufeff' : ''}${records.join(eol)}${random(2) === 0 ? eol : ''}`;
      const path = await file(text);
      const every = 1 + random(2);
      const scan = await scannedShape(path, ';', every);
      // The first line end decides the file's; a first record ending in a quoted `\r\n` of a `\n` file is left to the parser.
      if (!scan) continue;
      scanned++;
      assert.deepEqual(scan, await parsedShape(path, ';', every), JSON.stringify(text));
      await sameRecords(path, ';', scan.marks);
    }
    assert.ok(scanned > 200, `${scanned} of 300 scanned`);
  });
});

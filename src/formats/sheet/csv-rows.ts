// CSV rows, streamed: csv-parse reads the file a buffer at a time and hands over one record at a
// time, so memory holds one row, never the file. Values stay text: a CSV has no types, and
// writing the table back must give the same cells.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { open } from 'node:fs/promises';
import { parse, CsvError, type Options } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { ReamError } from '../../errors.ts';
import { eachSimpleRecord } from './csv-simple.ts';
import { utf8Checked } from './utf8-check.ts';
import type { CellValue } from '../types.ts';

/**
 * Longest record (a row, its line end excluded) read, in bytes: a CSV cell longer than anything
 * a spreadsheet holds (Excel: 32,767 characters) is no table. A 60 MB field took 19 s and 800 MB
 * to read into a page; refused, the file fails at once with `resource_limit`.
 */
export const MAX_CSV_RECORD_BYTES = 8 * 1024 * 1024;

/** `resource_limit`: a record of the CSV (starting at byte `offset`, when known) is longer than {@link MAX_CSV_RECORD_BYTES}. */
export function recordTooLong(offset?: number): ReamError {
  const where = offset === undefined ? '' : ` (the one at byte ${offset})`;
  return ReamError.nonRetryable('resource_limit', `a row of the CSV${where} is longer than ${MAX_CSV_RECORD_BYTES / 1024 / 1024} MiB; ream reads rows of at most that`, {
    details: { maxRowBytes: MAX_CSV_RECORD_BYTES, ...(offset === undefined ? {} : { offset }) },
  });
}

/** Delimiters tried when none is given, in order of preference when they score the same. */
export const CSV_DELIMITERS = [',', ';', '\t', '|'] as const;

/** Bytes read to guess the delimiter: enough for a few dozen rows of most files. */
const SAMPLE_BYTES = 64 * 1024;
/** Lines of the sample the guess looks at. */
const SAMPLE_LINES = 50;

export interface CsvReadOptions {
  /** The delimiter; default guessed from the file's first bytes ({@link guessDelimiter}). */
  delimiter?: string;
  /** Byte offset to start at: the start of a record (see csv-index.ts). Default 0. */
  start?: number;
  /** Called with the byte offset just past each record, before the record is handed on. */
  onRecordEnd?: (offset: number) => void;
}

let recordsParsed = 0;
/** Records parsed by this thread so far: lets a test see how much of a file a read went through. */
export function csvRecordsParsed(): number {
  return recordsParsed;
}

/** Every record of the CSV at `path` (from `start`) as an array of cells (a BOM is dropped, quotes and quoted line breaks honoured). */
export async function* csvRows(path: string, options: CsvReadOptions = {}): AsyncGenerator<CellValue[]> {
  const chosen = options.delimiter ?? (await guessCsvDelimiter(path));
  const start = options.start ?? 0;
  const stream = createReadStream(path, { start });
  // info: each record says how many bytes were read up to its end, so reads can resume there.
  const parser = parse({ ...parseOptions(chosen), info: true });
  // Joined by pipeline, not pipe: a failure anywhere (a byte that is not UTF-8) ends the parser's
  // iteration with it. With pipe it was an error event nobody heard, and it killed the thread.
  pipeline(stream, utf8Checked(start), parser, () => undefined);
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { bytes: number } }>) {
      recordsParsed++;
      options.onRecordEnd?.(start + info.bytes);
      yield record;
    }
  } catch (error) {
    throw parseError(error);
  } finally {
    stream.destroy();
  }
}


/**
 * relax_column_count: a row of another width than the header is that row's failure (see
 * table.ts), not the whole file's. relax_quotes: a stray `"` inside an unquoted field is text.
 */
function parseOptions(delimiter: string): Options {
  // max_record_size counts characters, at most as many as the bytes they are read from.
  return { delimiter, bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, max_record_size: MAX_CSV_RECORD_BYTES };
}

/** A csv-parse error as `invalid_sheet` (a record too long: `resource_limit`); anything else as it is. */
function parseError(error: unknown): unknown {
  if (!(error instanceof CsvError)) return error;
  if (error.code === 'CSV_MAX_RECORD_SIZE') return recordTooLong();
  return ReamError.nonRetryable('invalid_sheet', `the CSV cannot be parsed: ${error.message}`, { cause: error, details: { csvCode: error.code } });
}

/**
 * The records of `bytes`, whole records of a CSV (from a record's start to past a record's end,
 * see csv-scan.ts), parsed at once as {@link csvRows} parses them one by one.
 */
export function parseCsvRecords(bytes: Buffer, delimiter: string): string[][] {
  const records: string[][] = [];
  eachCsvRecord(bytes, delimiter, (record) => records.push(record));
  return records;
}

/**
 * {@link parseCsvRecords}, each record handed to `visit` as it is parsed and not kept: a batch's
 * records held until the end of the parse survived the thread's young-generation collections.
 * `scanned`: the bytes are of a file the byte scan vouched for (csv-scan.ts), read by the
 * simpler parser of csv-simple.ts (`atFileStart`: they begin the file).
 */
export function eachCsvRecord(bytes: Buffer, delimiter: string, visit: (record: string[]) => void, scanned?: { atFileStart: boolean }): void {
  const onRecord = (record: string[]): null => {
    recordsParsed++;
    visit(record);
    return null; // not gathered
  };
  if (scanned) {
    eachSimpleRecord(bytes, delimiter, scanned.atFileStart, onRecord);
    return;
  }
  try {
    parseSync(bytes, { ...parseOptions(delimiter), on_record: onRecord });
  } catch (error) {
    throw parseError(error);
  }
}

/** Where a CSV's records begin and what separates their fields. */
export interface CsvLayout {
  delimiter: string;
  /** Byte offset of the first record: past a `sep=` line (and the BOM before it), else 0. */
  start: number;
}

/**
 * Excel's delimiter declaration: a first line `sep=;` (after a BOM, if any), which Excel writes
 * and reads so that a file opens the same in every locale. It names the delimiter and is no row.
 */
const SEP_LINE = /^\ufeff?sep=([^\r\n"])(\r\n|\n|\r)/;

/** The layout of the CSV at `path`: the delimiter its `sep=` line declares, else the one guessed from its first bytes. */
export async function csvLayout(path: string): Promise<CsvLayout> {
  const sample = await readSample(path);
  const declared = SEP_LINE.exec(sample);
  if (declared?.[1] !== undefined) return { delimiter: declared[1], start: Buffer.byteLength(declared[0]) };
  return { delimiter: guessDelimiter(sample), start: 0 };
}

/** The delimiter of the CSV at `path` (see {@link csvLayout}). */
export async function guessCsvDelimiter(path: string): Promise<string> {
  return (await csvLayout(path)).delimiter;
}

async function readSample(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SAMPLE_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * The delimiter of a one-column table: none of {@link CSV_DELIMITERS} is one, so `Acme, Inc` is
 * one cell. A character text does not hold (NUL) stands for "no delimiter", as the parsers need one.
 */
export const ONE_COLUMN_DELIMITER = '\u0000';

/**
 * The delimiter that splits the sample's lines most consistently, among those the header (its
 * first non-blank line) holds: for each, the count per line outside quotes; the winner has the
 * same non-zero count on the most lines. A header with none of them is one column
 * ({@link ONE_COLUMN_DELIMITER}): a `,` or `;` in the rows below it is text, not a second cell.
 */
export function guessDelimiter(sample: string): string {
  const lines = splitOutsideQuotes(sample).slice(0, SAMPLE_LINES);
  // The last line of a cut sample may be incomplete: it is left out when there are others.
  if (lines.length > 1 && !/\r?\n$/.test(sample)) lines.pop();
  const header = lines.find((line) => line.trim() !== '');
  if (header === undefined) return ',';
  const candidates = CSV_DELIMITERS.filter((delimiter) => countOutsideQuotes(header, delimiter) > 0);
  let best: { delimiter: string; score: number } = { delimiter: candidates[0] ?? ONE_COLUMN_DELIMITER, score: 0 };
  for (const delimiter of candidates) {
    const counts = lines.filter((line) => line.trim() !== '').map((line) => countOutsideQuotes(line, delimiter));
    const tally = new Map<number, number>();
    for (const count of counts) if (count > 0) tally.set(count, (tally.get(count) ?? 0) + 1);
    const score = Math.max(0, ...tally.values());
    if (score > best.score) best = { delimiter, score };
  }
  return best.delimiter;
}

/** Lines of `text`, where a line break inside double quotes belongs to its field. */
function splitOutsideQuotes(text: string): string[] {
  const lines: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') quoted = !quoted;
    else if (char === '\n' && !quoted) {
      lines.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

function countOutsideQuotes(line: string, delimiter: string): number {
  let quoted = false;
  let count = 0;
  for (const char of line) {
    if (char === '"') quoted = !quoted;
    else if (char === delimiter && !quoted) count++;
  }
  return count;
}

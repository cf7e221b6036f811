// A CSV's shape found by a byte scan instead of a parse: where records end (quotes honoured),
// which are blank, and where every MARK_EVERY-th data row ends — what the inspection needs
// (row count, header, marks), without building a string or a record per row. A full parse of a
// 1,000,000-row table took 1.5–3 s on one thread before any batch could start; this scan takes a
// tenth of that (docs/benchmarks.md, "Spreadsheets").
//
// It follows csv-parse as `csvRows` calls it (bom, skip_empty_lines, relax_quotes, the record
// delimiter found at the first line end), and only as far as it can be sure: a quote inside an
// unquoted field, a closing quote followed by anything but a delimiter or a line end, a lone
// `\r`, a line end other than the first one's, an unclosed quote or a UTF-16 BOM make it give up
// (`undefined`), and the caller parses the file with csv-parse instead.
import { open } from 'node:fs/promises';
import { MAX_CSV_RECORD_BYTES, recordTooLong } from './csv-rows.ts';

/** Bytes read at a time. */
const READ_BYTES = 1024 * 1024;

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** What the scan found: the header record's bytes, the data rows and the marks ([rowsBefore, offset]). */
export interface CsvScan {
  /** Byte range of the first non-blank record (the header), its line end excluded; none: no header. */
  header?: { start: number; end: number };
  /** Data rows (non-blank records after the header); stops counting past `maxRows`. */
  rowCount: number;
  /** After every `markEvery`-th data row: `[rows before the next record, its byte offset]`. */
  marks: Array<[number, number]>;
}

// Where the scanner is within a record.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** A quote seen inside a quoted field: an escaped quote (`""`) or the field's end. */
const QUOTE_IN_QUOTED = 3;
/** A `\r` outside quotes: a line end only if a `\n` follows. */
const AFTER_CR = 4;

/** The record delimiter, as csv-parse finds it: the first line end outside quotes. */
const UNKNOWN = 0;
const LF_ONLY = 1;
const CRLF = 2;

/**
 * Scans the CSV at `path` with `delimiter` (one ASCII character), its records from byte `start`
 * (past a `sep=` line, see csv-rows.ts `csvLayout`). `maxRows`: the scan stops once the count
 * passes it (the caller refuses the table). `undefined`: not sure, parse it. Throws
 * `resource_limit` for a record longer than {@link MAX_CSV_RECORD_BYTES}, at its end or, for one
 * that goes on, a buffer past the limit.
 */
export async function scanCsv(path: string, delimiter: string, markEvery: number, maxRows: number, start = 0): Promise<CsvScan | undefined> {
  if (delimiter.length !== 1 || delimiter.charCodeAt(0) > 0x7f || delimiter === '"' || delimiter === '\r' || delimiter === '\n') return undefined;
  const delim = delimiter.charCodeAt(0);
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    let { bytesRead } = await handle.read(buffer, 0, READ_BYTES, 0);
    // A UTF-8 BOM is skipped (its bytes count in the offsets, as csv-parse counts them); a
    // UTF-16 one makes csv-parse read another encoding.
    let pos = 0;
    if (bytesRead >= 2 && buffer[0] === 0xff && buffer[1] === 0xfe) return undefined;
    if (bytesRead >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) pos = 3;
    if (start > 0) pos = start; // the sep line, and the BOM before it
    const scan: CsvScan = { rowCount: 0, marks: [] };
    let state = FIELD_START;
    let lineEnd = UNKNOWN;
    /** File offset of the current record's first byte. */
    let recordStart = pos;
    /** Whether a cell of the current record holds anything (else the record is blank). */
    let content = false;
    let base = 0; // file offset of buffer[0]
    /** A record ends at `end` (its line end excluded), the next starts at `next`: counts it. */
    const endRecord = (end: number, next: number): boolean => {
      if (end - recordStart > MAX_CSV_RECORD_BYTES) throw recordTooLong(recordStart);
      if (end > recordStart && content) {
        if (scan.header === undefined) {
          scan.header = { start: recordStart, end };
        } else {
          const number = ++scan.rowCount;
          if (number > maxRows) return false;
          if (number % markEvery === 0) scan.marks.push([number, next]);
        }
      }
      recordStart = next;
      content = false;
      state = FIELD_START;
      return true;
    };
    while (bytesRead > 0) {
      for (; pos < bytesRead; pos++) {
        const byte = buffer[pos] as number;
        switch (state) {
          case QUOTED:
            if (byte === QUOTE) state = QUOTE_IN_QUOTED;
            else content = true;
            continue;
          case UNQUOTED:
            if (byte === delim) state = FIELD_START;
            else if (byte === QUOTE) return undefined; // relax_quotes: csv-parse decides what it is
            else if (byte === LF || byte === CR) break;
            continue;
          case FIELD_START:
            if (byte === QUOTE) state = QUOTED;
            else if (byte === LF || byte === CR) break;
            else if (byte !== delim) {
              state = UNQUOTED;
              content = true;
            }
            continue;
          case QUOTE_IN_QUOTED:
            if (byte === QUOTE) {
              state = QUOTED;
              content = true;
            } else if (byte === delim) state = FIELD_START;
            else if (byte !== LF && byte !== CR) return undefined; // a closing quote followed by text
            else break;
            continue;
          case AFTER_CR:
            // The `\r` at pos - 1 ends a line only as `\r\n`.
            if (byte !== LF || lineEnd === LF_ONLY) return undefined;
            lineEnd = CRLF;
            if (!endRecord(base + pos - 1, base + pos + 1)) return scan;
            continue;
        }
        // A line end outside quotes (`byte` is `\n` or `\r`).
        if (byte === CR) {
          if (lineEnd === LF_ONLY) return undefined;
          state = AFTER_CR;
          continue;
        }
        if (lineEnd === CRLF) return undefined; // a lone `\n` in a `\r\n` file is text to csv-parse
        lineEnd = LF_ONLY;
        if (!endRecord(base + pos, base + pos + 1)) return scan;
      }
      base += bytesRead;
      pos = 0;
      if (base - recordStart > MAX_CSV_RECORD_BYTES) throw recordTooLong(recordStart);
      ({ bytesRead } = await handle.read(buffer, 0, READ_BYTES, base));
    }
    // The end of the file ends the last record; inside quotes it is csv-parse's error to give.
    if (state === QUOTED || state === AFTER_CR) return undefined;
    endRecord(base, base);
    return scan;
  } finally {
    await handle.close();
  }
}

/** The bytes `[start, end)` of the file at `path`. */
export async function readBytes(path: string, start: number, end: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(end - start);
    let done = 0;
    while (done < buffer.length) {
      const { bytesRead } = await handle.read(buffer, done, buffer.length - done, start + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done < buffer.length ? buffer.subarray(0, done) : buffer;
  } finally {
    await handle.close();
  }
}

// CSV rows, streamed: csv-parse reads the file a buffer at a time and hands over one record at a
// time, so memory holds one row, never the file. Values stay text: a CSV has no types, and
// writing the table back must give the same cells.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { parse, CsvError } from 'csv-parse';
import { ReamError } from '../../errors.ts';
import type { CellValue } from '../types.ts';

/** Delimiters tried when none is given, in order of preference when they score the same. */
export const CSV_DELIMITERS = [',', ';', '\t', '|'] as const;

/** Bytes read to guess the delimiter: enough for a few dozen rows of most files. */
const SAMPLE_BYTES = 64 * 1024;
/** Lines of the sample the guess looks at. */
const SAMPLE_LINES = 50;

/** Every record of the CSV at `path` as an array of cells (a BOM is dropped, quotes and quoted line breaks honoured). */
export async function* csvRows(path: string, delimiter?: string): AsyncGenerator<CellValue[]> {
  const chosen = delimiter ?? guessDelimiter(await readSample(path));
  const stream = createReadStream(path);
  // relax_column_count: a row of another width than the header is that row's failure (see
  // table.ts), not the whole file's. relax_quotes: a stray `"` inside an unquoted field is text.
  const parser = stream.pipe(parse({ delimiter: chosen, bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true }));
  try {
    for await (const record of parser) yield record as string[];
  } catch (error) {
    if (error instanceof CsvError) {
      throw ReamError.nonRetryable('invalid_sheet', `the CSV cannot be parsed: ${error.message}`, { cause: error, details: { csvCode: error.code } });
    }
    throw error;
  } finally {
    stream.destroy();
  }
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
 * The delimiter that splits the sample's lines most consistently: for each candidate, the count
 * per line outside quotes; the winner has the same non-zero count on the most lines. A sample
 * with none of them is one column, and `,` reads that as well as any.
 */
export function guessDelimiter(sample: string): string {
  const lines = splitOutsideQuotes(sample).slice(0, SAMPLE_LINES);
  // The last line of a cut sample may be incomplete: it is left out when there are others.
  if (lines.length > 1 && !/\r?\n$/.test(sample)) lines.pop();
  let best: { delimiter: string; score: number } = { delimiter: ',', score: 0 };
  for (const delimiter of CSV_DELIMITERS) {
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

// Child process of bench/rows.ts: one side of the comparison, measured in a process of its own.
// `node bench/rows-child.ts ream <in.csv> <out.csv> <rules.json> <dataDir>`: `ream rows` with rules.
// `node bench/rows-child.ts pipe <in.csv> <out.csv>`: csv-parse → csv-stringify, nothing else.
// Prints one JSON line: rows, wall ms, CPU ms, peak RSS in kB.
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { keepHeapSmall, ROWS_YOUNG_GENERATION_MB } from '../src/cli/process-heap.ts';
import { rowsCommand } from '../src/cli/rows-command.ts';

const [mode, input = '', out = '', rules = '', dataDir = ''] = process.argv.slice(2);
const started = performance.now();
let rows = 0;
if (mode === 'ream') {
  keepHeapSmall(ROWS_YOUNG_GENERATION_MB); // as `ream rows` does (src/cli/rows-flags.ts)
  const summary = await rowsCommand(input, { out, rules, dataDir, resume: false, progress: 'none' }, new AbortController().signal);
  if (summary.error) throw new Error(`ream rows failed: ${summary.error.message}`);
  rows = summary.rows;
} else {
  await pipeline(
    createReadStream(input),
    parse({ bom: true }),
    async function* (records: AsyncIterable<string[]>) {
      for await (const record of records) {
        rows++;
        yield record;
      }
    },
    stringify(),
    createWriteStream(out),
  );
  rows--; // the header
}
const ms = performance.now() - started;
const usage = process.resourceUsage();
process.stdout.write(`${JSON.stringify({ rows, ms, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, maxRssKb: usage.maxRSS })}\n`);

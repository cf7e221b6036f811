// Child process of bench/rows.ts: one side of the comparison, measured in a process of its own.
// `node bench/rows-child.ts ream <in.csv> <out.csv> <rules.json> <dataDir>`: `ream rows` with rules.
// `node bench/rows-child.ts pipe <in.csv> <out.csv>`: csv-parse → csv-stringify, nothing else.
// ream runs from the CLI's bundle, dist/bundle/ (BENCH_FROM_SOURCE=1: the sources). Prints one JSON line: rows, wall ms, CPU ms, peak RSS in kB.
import { createReadStream, createWriteStream } from 'node:fs';
import module from 'node:module';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { cliModule } from './ream-build.ts';

const [mode, input = '', out = '', rules = '', dataDir = ''] = process.argv.slice(2);
const started = performance.now();
let rows = 0;
if (mode === 'ream') {
  // ream's modules load only on this side, from the CLI's bundle as the binary runs them (bench/ream-build.ts):
  // the pipe's process is not charged for loading them.
  // Node's compile cache on, as bin/ream.js turns it on for every `ream` command.
  module.enableCompileCache();
  type Heap = typeof import('../src/cli/process-heap.ts');
  type Rows = typeof import('../src/cli/rows-command.ts');
  const { keepHeapSmall, ROWS_YOUNG_GENERATION_MB } = (await import(pathToFileURL(cliModule('cli/process-heap')).href)) as Heap;
  const { rowsCommand } = (await import(pathToFileURL(cliModule('cli/rows-command')).href)) as Rows;
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

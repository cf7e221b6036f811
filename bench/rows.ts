// Spreadsheets (issue 13): a CSV of many rows through `ream rows --rules` (parsed in the pool,
// batched, checkpointed, merged, written back in order) against a bare csv-parse → csv-stringify
// pipe over the same file in the same run; both in processes of their own, peak RSS of each.
// `node bench/rows.ts [rows]` runs it alone (default: 100,000 rows, then 1,000,000).
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { assertBuildCurrent } from './ream-build.ts';

interface Measured {
  rows: number;
  ms: number;
  cpuMs: number;
  maxRssKb: number;
}

const RULES = [
  { name: 'invoice', pattern: String.raw`INV-(\d+)` },
  { name: 'flag', keywords: ['urgent'] },
];

/** `count` rows like an order export: a quoted note with a delimiter, an invoice number on most rows. */
async function writeTable(path: string, count: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('order,customer,note,amount\n');
  for (let i = 1; i <= count; i++) {
    const note = i % 3 === 0 ? 'paid by card' : `"Invoice INV-${100_000 + i}, due 2024-07-01${i % 4 === 0 ? ', urgent' : ''}"`;
    if (!out.write(`${i},Customer ${i % 997},${note},${(i % 500) + 0.5}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end();
  await finished(out);
}

function child(args: string[]): Promise<Measured> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [fileURLToPath(new URL('./rows-child.ts', import.meta.url)), ...args], { maxBuffer: 2 ** 20 }, (error, stdout) => {
      if (error) return reject(new Error(`bench/rows-child.ts ${args[0] ?? ''} failed: ${error.message}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Measured);
    });
  });
}

/** Both sides over one generated table of `count` rows: the pipe first, then ream. */
async function measure(dir: string, count: number): Promise<{ count: number; bytes: number; pipe: Measured; ream: Measured }> {
  const input = join(dir, `orders-${count}.csv`);
  await writeTable(input, count);
  const rules = join(dir, 'rules.json');
  await writeFile(rules, JSON.stringify(RULES));
  const pipe = await child(['pipe', input, join(dir, 'pipe-out.csv')]);
  const ream = await child(['ream', input, join(dir, 'ream-out.csv'), rules, join(dir, `data-${count}`)]);
  const { size } = await stat(input);
  await rm(input);
  return { count, bytes: size, pipe, ream };
}

export async function run(counts = [100_000, 1_000_000]): Promise<string> {
  await assertBuildCurrent();
  const dir = await mkdtemp(join(tmpdir(), 'ream-bench-rows-'));
  try {
    const load = loadavg()[0]?.toFixed(1) ?? '?';
    const results = [];
    for (const count of counts) results.push(await measure(dir, count));
    const mb = (kb: number): string => `${Math.round(kb / 1024)} MB`;
    const rate = (m: Measured): string => Math.round(m.rows / (m.ms / 1000)).toLocaleString('en');
    const line = (name: string, count: number, m: Measured): string =>
      `| ${count.toLocaleString('en')} | ${name} | ${rate(m)} | ${(m.ms / 1000).toFixed(1)} | ${(m.cpuMs / 1000).toFixed(1)} | ${mb(m.maxRssKb)} |`;
    return [
      '## Spreadsheets: `ream rows` vs a bare csv-parse → csv-stringify pipe',
      '',
      `Tables of ${results.map((r) => `${r.count.toLocaleString('en')} rows (${mb(r.bytes / 1024)})`).join(' and ')} of CSV, a quoted note on every row, ${availableParallelism()} cores, load average ${load} at the start. ` +
        '**ream**: `ream rows --rules` (two rules: a pattern and a keyword, run on each row) from the CLI\'s bundle as the binary runs it, embedded mode, default threads and rows per task (2,000): ' +
        'every batch parsed in the thread pool, checkpointed in SQLite, merged and written back in input order with field and error columns. ' +
        '**pipe**: `csv-parse` → `csv-stringify` in one process, no rules, no checkpoints. Each in a process of its own, one after the other; ' +
        'CPU is user + system time of the process (all its threads), peak RSS its `maxRSS`.',
      '',
      '| rows | | rows/s | wall s | CPU s | peak RSS |',
      '|---|---|---|---|---|---|',
      ...results.flatMap((r) => [line('ream rows', r.count, r.ream), line('pipe', r.count, r.pipe)]),
      '',
      ...results.map((r) =>
        `${r.count.toLocaleString('en')} rows: ream ÷ pipe **${(r.pipe.ms / r.ream.ms).toFixed(2)}×** the rows per second (goal ≥ 0.5×), ` +
        `${(r.pipe.cpuMs / r.ream.cpuMs).toFixed(2)}× by CPU time; ream's peak RSS ${mb(r.ream.maxRssKb)} (goal ≤ 300 MB for 1,000,000 rows).`),
    ].join('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Alone, `node bench/rows.ts 300000` measures one size; under `npm run bench` argv names sections, not sizes.
if (import.meta.main) process.stdout.write(`${await run(process.argv[2] ? [Number(process.argv[2])] : undefined)}\n`);

// PDF text extraction: ream's path (formats + thread pool, in chunks; and the whole `ream run`)
// with each engine against bare PDFium, bare pdf.js and poppler's pdftotext, whole process
// against whole process, over every `ok` PDF of the shared corpus, with 1 and 2 threads; then
// both engines' fidelity to pdftotext (test/formats/pdf-fidelity-table.ts, run here for its
// table). `node bench/pdf-extract.ts` runs it alone; bench/run.ts includes it. Runs are
// interleaved and repeated (best of BENCH_REPEATS, default 2) because other work on the machine
// slows whichever run it happens to overlap.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBuildCurrent, fromSource } from './ream-build.ts';

const corpusDir = process.env.REAM_CORPUS ?? fileURLToPath(new URL('../../shared/corpus/', import.meta.url));
const repeats = Number(process.env.BENCH_REPEATS ?? 2);
const THREADS = [1, 2];
const ENGINES = ['pdfium', 'pdfjs'] as const;

interface Measure {
  pages: number;
  /** Wall time from spawn to exit, in ms. */
  wallMs: number;
  /** User + system CPU of the whole process (all threads), in ms; undefined for pdftotext. */
  cpuMs?: number;
  maxRssKb?: number;
  /** `ream run` only: the main thread's own CPU, and its share before the run began (module loading), in ms. */
  mainCpuMs?: number;
  mainLoadCpuMs?: number;
}

interface Corpus {
  files: string[];
  pages: number;
}

async function loadCorpus(): Promise<Corpus> {
  const rows = (await readFile(`${corpusDir}/manifest.tsv`, 'utf8')).trim().split('\n').slice(1).map((l) => l.split('\t'));
  const ok = rows.filter((r) => r[1] === 'ok' && r[0]?.endsWith('.pdf'));
  // Largest first, for every contender: it balances the threads of plain pdf.js best.
  ok.sort((a, b) => Number(b[4]) - Number(a[4]));
  return { files: ok.map((r) => `${corpusDir}/${r[0]}`), pages: ok.reduce((n, r) => n + Number(r[3]), 0) };
}

function runChild(script: string, args: string[]): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`${script} exited with ${code}`));
      const result = JSON.parse(out) as { pages: number; cpuMs: number; maxRssKb: number; failures: number; mainCpuMs?: number; mainLoadCpuMs?: number };
      if (result.failures) return reject(new Error(`${script}: ${result.failures} pages failed`));
      const { mainCpuMs, mainLoadCpuMs } = result;
      resolve({ pages: result.pages, wallMs, cpuMs: result.cpuMs, maxRssKb: result.maxRssKb, ...(mainCpuMs === undefined ? {} : { mainCpuMs }), ...(mainLoadCpuMs === undefined ? {} : { mainLoadCpuMs }) });
    });
  });
}

function runPdftotext(corpus: Corpus, threads: number): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = execFile('xargs', ['-0', '-P', String(threads), '-I{}', 'pdftotext', '-q', '{}', '/dev/null'], (error) => {
      if (error) return reject(new Error(`pdftotext failed: ${error.message}`));
      resolve({ pages: corpus.pages, wallMs: performance.now() - started });
    });
    child.stdin?.end(corpus.files.join('\0'));
  });
}

function hasPdftotext(): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => existsSync(`${dir}/pdftotext`));
}

const best = (runs: Measure[]): Measure => runs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
const maxRss = (runs: Measure[]): number => Math.max(...runs.map((r) => r.maxRssKb ?? 0));
const minCpu = (runs: Measure[]): number => Math.min(...runs.map((r) => r.cpuMs ?? Infinity));
const rate = (m: Measure): number => (m.pages / m.wallMs) * 1000;
const mb = (kb: number): string => `${Math.round(kb / 1024)} MB`;
const fmt = (x: number, digits = 0): string => x.toFixed(digits);

export async function run(): Promise<string> {
  const title = '## PDF text extraction';
  if (!existsSync(`${corpusDir}/manifest.tsv`)) return `${title}\n\nSkipped: the shared corpus (${corpusDir}) is not available.\n`;
  await assertBuildCurrent();
  const corpus = await loadCorpus();
  const withPdftotext = hasPdftotext();
  const runs = new Map<string, Measure[]>();
  const record = (key: string, m: Measure): void => void runs.set(key, [...(runs.get(key) ?? []), m]);

  for (let round = 0; round < repeats; round++) {
    for (const threads of THREADS) {
      process.stderr.write(`bench: pdf round ${round + 1}/${repeats}, ${threads} thread(s)\n`);
      const n = String(threads);
      record(`bare:pdfium:${threads}`, await runChild('./pdf-extract-pdfium.ts', [n, ...corpus.files]));
      record(`bare:pdfjs:${threads}`, await runChild('./pdf-extract-pdfjs.ts', [n, ...corpus.files]));
      if (withPdftotext) record(`pdftotext:${threads}`, await runPdftotext(corpus, threads));
      for (const engine of ENGINES) {
        record(`ream:${engine}:${threads}`, await runChild('./pdf-extract-ream.ts', [n, '', engine, ...corpus.files]));
        record(`cli:${engine}:${threads}`, await runChild('./pdf-extract-cli.ts', [n, engine, ...corpus.files]));
      }
    }
  }

  const get = (key: string): Measure[] => runs.get(key) ?? [];
  const cell = (key: string, versus?: string): string => {
    const ms = get(key);
    if (ms.length === 0) return '| n/a | n/a | n/a | n/a ';
    const ratio = versus && get(versus).length ? fmt(rate(best(ms)) / rate(best(get(versus))), 2) : 'n/a';
    const cpu = minCpu(ms);
    return `| ${fmt(rate(best(ms)))} | ${ratio} | ${Number.isFinite(cpu) ? fmt(cpu / 1000, 1) : 'n/a'} | ${maxRss(ms) ? mb(maxRss(ms)) : 'n/a'} `;
  };
  const lines = [
    title,
    '',
    `${corpus.files.length} PDFs, ${corpus.pages} pages (every \`ok\` file of the shared corpus), best of ${repeats} interleaved runs; ` +
      'each figure is a whole process from spawn to exit. **bare PDFium** / **bare pdf.js**: the engine alone in worker threads, ' +
      'whole files from a shared list (pdf.js: `getTextContent` with CMaps). **ream formats**: `createFormats` over `createThreadPool`, ' +
      'every file identified, inspected and read in the engine\'s 50-page chunks, 2 × threads tasks in flight (no store, no queue). ' +
      `**ream run**: \`ream run <the same files> --threads N --text none --progress none --pdf-engine E\`, ${fromSource() ? 'from the TypeScript sources (BENCH_FROM_SOURCE=1)' : 'from the CLI\'s bundle (`dist/bundle/`) as the `ream` binary runs it'}, in a fresh data dir (files ` +
      'streamed into the blob store with sha256, SQLite records, queue, checkpoints, events, JSONL output). **pdftotext**: poppler, ' +
      '`xargs -P threads`. CPU is user + system time of the whole process; RSS is its peak (`maxRSS`, all threads), highest of the runs. ' +
      '"÷" columns compare pages/s with pdftotext\'s, or with the bare engine\'s, at the same thread count in the same run.',
    '',
    '| threads | contender | pages/s | ÷ pdftotext | CPU s | peak RSS |',
    '|---:|---|---:|---:|---:|---:|',
  ];
  const contenders: [string, string][] = [
    ['pdftotext', 'pdftotext'],
    ['bare PDFium', 'bare:pdfium'],
    ['bare pdf.js', 'bare:pdfjs'],
    ['ream formats, PDFium', 'ream:pdfium'],
    ['ream formats, pdf.js', 'ream:pdfjs'],
    ['ream run, PDFium (default)', 'cli:pdfium'],
    ['ream run, pdf.js', 'cli:pdfjs'],
  ];
  for (const threads of THREADS) {
    for (const [label, key] of contenders) lines.push(`| ${threads} | ${label} ${cell(`${key}:${threads}`, `pdftotext:${threads}`)}|`);
  }
  lines.push(
    '',
    'Overhead and scaling, from the same runs: ream (formats path, and the whole `ream run`) ÷ the bare engine, and each at 2 threads ÷ 1 thread.',
    '',
    '| engine | formats ÷ bare, 1 thread | formats ÷ bare, 2 threads | ream run ÷ bare, 1 thread | ream run ÷ bare, 2 threads | bare 2 ÷ 1 | ream run 2 ÷ 1 |',
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  const ratio = (a: string, b: string): string => (get(a).length && get(b).length ? fmt(rate(best(get(a))) / rate(best(get(b))), 2) : 'n/a');
  for (const engine of ENGINES) {
    lines.push(
      `| ${engine} | ${ratio(`ream:${engine}:1`, `bare:${engine}:1`)} | ${ratio(`ream:${engine}:2`, `bare:${engine}:2`)} | ` +
        `${ratio(`cli:${engine}:1`, `bare:${engine}:1`)} | ${ratio(`cli:${engine}:2`, `bare:${engine}:2`)} | ` +
        `${ratio(`bare:${engine}:2`, `bare:${engine}:1`)} | ${ratio(`cli:${engine}:2`, `cli:${engine}:1`)} |`,
    );
  }
  lines.push(
    '',
    'Where `ream run`\'s CPU goes (its run with the least CPU per thread count, against the bare engine\'s least): the main thread ' +
      '(module loading, then the store, queue, events, blob ingest, search index and results file) and the pool threads (the total less the main thread\'s).',
    '',
    '| engine | threads | bare engine CPU s | ream run CPU s | main thread (of it: module loading) | pool threads | pool threads ÷ bare engine |',
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const engine of ENGINES) {
    for (const threads of THREADS) {
      const cli = get(`cli:${engine}:${threads}`).filter((m) => m.cpuMs !== undefined && m.mainCpuMs !== undefined);
      const bareCpu = minCpu(get(`bare:${engine}:${threads}`));
      if (cli.length === 0 || !Number.isFinite(bareCpu)) continue;
      const least = cli.reduce((a, b) => ((b.cpuMs ?? 0) < (a.cpuMs ?? 0) ? b : a));
      const cpu = least.cpuMs ?? 0;
      const main = least.mainCpuMs ?? 0;
      lines.push(`| ${engine} | ${threads} | ${fmt(bareCpu / 1000, 1)} | ${fmt(cpu / 1000, 1)} | ${fmt(main / 1000, 2)} (${fmt((least.mainLoadCpuMs ?? 0) / 1000, 2)}) | ${fmt((cpu - main) / 1000, 1)} | ${fmt((cpu - main) / bareCpu, 2)} |`);
    }
  }
  lines.push(
    '',
    'Memory: WebAssembly memory never shrinks, so a pool thread whose PDFium memory passed 160 MB is ended after its task and ' +
      'replaced (`retireAboveMb`); a thread that reads with PDFium never loads pdf.js (nor its canvas or OCR); `ream run` caps its main thread\'s young ' +
      'generation at 8 MB (`RUN_YOUNG_GENERATION_MB`). The bar is ≤ 400 MB peak RSS for `ream run` at ' +
      '2 threads. (The visible corpus has no 2,415-page R reference manual; its longest file has 528 pages.)',
  );
  if (!withPdftotext) lines.push('', 'pdftotext (poppler-utils) is not installed: its rows are empty.');
  lines.push('', await fidelity(), '', BUILD_CHOICE);
  return `${lines.join('\n')}\n`;
}

/** Why ream uses @embedpdf/pdfium: measured once, when the engine was chosen (the other build is no dependency). */
const BUILD_CHOICE = `### Which PDFium build

Two maintained WebAssembly builds of PDFium (BSD-3/Apache-2.0) are on npm under MIT wrappers:
\`@hyzyla/pdfium\` 2.1.13 and \`@embedpdf/pdfium\` 2.15.1. Both were run twice, alternately, one
process each, one thread, on the same 54 \`ok\` PDFs (3,817 pages), with the same raw calls
(\`FPDF_LoadMemDocument\`, \`FPDFText_LoadPage\`, \`FPDFText_GetText\` per page):

| build | CPU s (run 1 / run 2) | init ms | peak RSS | wasm heap after | characters |
|---|---:|---:|---:|---:|---:|
| \`@hyzyla/pdfium\` | 9.3 / 8.7 | 88–308 | 146 MB | 44 MB | 6,508,110 |
| \`@embedpdf/pdfium\` | 8.8 / 8.3 | 78–85 | 144 MB | 44 MB | 6,507,924 |

ream uses **\`@embedpdf/pdfium\`**: 4–6% less CPU in both runs, a faster start, and a typed
binding for every PDFium function (metadata, page objects' bounds, the last error), where
\`@hyzyla/pdfium\` types only a handful and hides the rest behind its page/document classes. Its
releases are also more frequent. (Wall times were noisy on the shared machine; CPU seconds are
the fair figure here.)`;

/** Runs test/formats/pdf-fidelity-table.ts with both engines and returns its table, with what it means. */
async function fidelity(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ream-bench-fidelity-'));
  const file = join(dir, 'table.md');
  try {
    process.stderr.write('bench: pdf fidelity (both engines)\n');
    const test = fileURLToPath(new URL('../test/formats/pdf-fidelity-table.ts', import.meta.url));
    await new Promise<void>((resolve) => {
      execFile(process.execPath, ['--test', '--test-reporter=dot', test], { env: { ...process.env, REAM_FIDELITY_TABLE: file } }, () => resolve());
    });
    const table = await readFile(file, 'utf8').catch(() => undefined);
    if (table === undefined) return '### PDF text fidelity\n\nNot measured: pdftotext or the corpus is missing.';
    return [
      '### PDF text fidelity',
      '',
      'Each `ok` PDF with a text layer, read by each engine and compared with `pdftotext` (test/formats/pdf-fidelity-table.ts): ' +
        'length is non-space characters ÷ pdftotext\'s (bar: within 10%), overlap the multiset F1 of words (of characters for CJK; ' +
        'bar: ≥ 0.90). ✗ marks a miss. Where the engines disagree: on the Persian kashida specimen pdftotext and pdf.js keep ' +
        'kashida-stretched words whole while PDFium breaks them (PDFium wrong), and pdf.js prints 39% more characters (pdf.js ' +
        'wrong); on the Greek character table pdf.js breaks words where pdftotext and PDFium agree (pdf.js wrong); on the ' +
        'ASS-S_3 chart PDFium puts subscripts on lines of their own (b / 0 for b₀) and joins a vertical axis into one word ' +
        '(PDFium wrong). Every character is there in all three (letter F1 ≥ 0.98).',
      '',
      table.trim(),
    ].join('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(await run());

// PDF text extraction: ream's path (formats + thread pool, in chunks) against plain pdf.js and
// poppler's pdftotext, whole process against whole process, over every `ok` PDF of the shared
// corpus, with 1 and 2 threads. `node bench/pdf-extract.ts` runs it alone; bench/run.ts includes
// it. Runs are interleaved and repeated (best of BENCH_REPEATS, default 3) because other work on
// the machine slows whichever run it happens to overlap.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const corpusDir = process.env.REAM_CORPUS ?? fileURLToPath(new URL('../../shared/corpus/', import.meta.url));
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const THREADS = [1, 2];
/** ream runs at its default heap cap (512 MB) and at 2048 MB, to show what a higher cap buys. */
const REAM_CAPS: (number | undefined)[] = [undefined, 2048];

interface Measure {
  pages: number;
  /** Wall time from spawn to exit, in ms. */
  wallMs: number;
  /** User + system CPU of the whole process (all threads), in ms; undefined for pdftotext. */
  cpuMs?: number;
  maxRssKb?: number;
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
      const result = JSON.parse(out) as { pages: number; cpuMs: number; maxRssKb: number; failures: number };
      if (result.failures) return reject(new Error(`${script}: ${result.failures} pages failed`));
      resolve({ pages: result.pages, wallMs, cpuMs: result.cpuMs, maxRssKb: result.maxRssKb });
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
  const corpus = await loadCorpus();
  const withPdftotext = hasPdftotext();
  const runs = new Map<string, Measure[]>();
  const record = (key: string, m: Measure): void => void runs.set(key, [...(runs.get(key) ?? []), m]);

  for (let round = 0; round < repeats; round++) {
    for (const threads of THREADS) {
      process.stderr.write(`bench: pdf round ${round + 1}/${repeats}, ${threads} thread(s)\n`);
      for (const cap of REAM_CAPS) record(`ream:${threads}:${cap ?? 'default'}`, await runChild('./pdf-extract-ream.ts', [String(threads), String(cap ?? ''), ...corpus.files]));
      record(`cli:${threads}`, await runChild('./pdf-extract-cli.ts', [String(threads), ...corpus.files]));
      record(`pdfjs:${threads}`, await runChild('./pdf-extract-pdfjs.ts', [String(threads), ...corpus.files]));
      if (withPdftotext) record(`pdftotext:${threads}`, await runPdftotext(corpus, threads));
    }
  }

  const lines = [
    title,
    '',
    `${corpus.files.length} PDFs, ${corpus.pages} pages (every \`ok\` file of the shared corpus), best of ${repeats} interleaved runs; ` +
      'each figure is a whole process from spawn to exit. **ream**: `createFormats` over `createThreadPool`, every file ' +
      'identified, inspected and read in the engine\'s 50-page chunks, 2 × threads tasks in flight (no store, no queue). **pdf.js**: plain ' +
      'pdfjs-dist in worker threads, whole files, `getTextContent` with CMaps. **pdftotext**: poppler, `xargs -P threads`. ' +
      'CPU is user + system time of the whole process; RSS is its peak (`maxRSS`, all threads), highest of the runs.',
    '',
    '| threads | ream pages/s | pdf.js pages/s | pdftotext pages/s | ream ÷ pdftotext | ream ÷ pdf.js | ream CPU s | pdf.js CPU s | ream peak RSS | pdf.js peak RSS |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const threads of THREADS) {
    const ours = runs.get(`ream:${threads}:default`) ?? [];
    const pdfjs = runs.get(`pdfjs:${threads}`) ?? [];
    const poppler = runs.get(`pdftotext:${threads}`);
    const o = best(ours);
    const p = best(pdfjs);
    const t = poppler ? best(poppler) : undefined;
    lines.push(
      `| ${threads} | ${fmt(rate(o))} | ${fmt(rate(p))} | ${t ? fmt(rate(t)) : 'n/a'} | ${t ? fmt(rate(o) / rate(t), 2) : 'n/a'} | ` +
        `${fmt(rate(o) / rate(p), 2)} | ${fmt(minCpu(ours) / 1000, 1)} | ${fmt(minCpu(pdfjs) / 1000, 1)} | ${mb(maxRss(ours))} | ${mb(maxRss(pdfjs))} |`,
    );
  }
  lines.push(
    '',
    'The same ream run with `maxMemoryMb: 2048` per thread (V8 then grows its heap by ×4 instead of ×1.3–2, so it collects ' +
      'garbage less often: more memory, less CPU):',
    '',
    '| threads | pages/s | ÷ pdf.js | CPU s | peak RSS |',
    '|---:|---:|---:|---:|---:|',
  );
  for (const threads of THREADS) {
    const capped = runs.get(`ream:${threads}:2048`) ?? [];
    const p = best(runs.get(`pdfjs:${threads}`) ?? []);
    lines.push(`| ${threads} | ${fmt(rate(best(capped)))} | ${fmt(rate(best(capped)) / rate(p), 2)} | ${fmt(minCpu(capped) / 1000, 1)} | ${mb(maxRss(capped))} |`);
  }
  lines.push(
    '',
    'The whole product path: `ream run <the same files> --threads N --text none --progress none` in a fresh data dir ' +
      '(files streamed into the blob store with sha256, SQLite records, queue, checkpoints, events, JSONL output, default 512 MB cap):',
    '',
    '| threads | pages/s | ÷ pdftotext | ÷ pdf.js | CPU s | peak RSS |',
    '|---:|---:|---:|---:|---:|---:|',
  );
  for (const threads of THREADS) {
    const cli = runs.get(`cli:${threads}`) ?? [];
    const p = best(runs.get(`pdfjs:${threads}`) ?? []);
    const poppler = runs.get(`pdftotext:${threads}`);
    const t = poppler ? best(poppler) : undefined;
    lines.push(
      `| ${threads} | ${fmt(rate(best(cli)))} | ${t ? fmt(rate(best(cli)) / rate(t), 2) : 'n/a'} | ${fmt(rate(best(cli)) / rate(p), 2)} | ` +
        `${fmt(minCpu(cli) / 1000, 1)} | ${mb(maxRss(cli))} |`,
    );
  }
  if (!withPdftotext) lines.push('', 'pdftotext (poppler-utils) is not installed: its column is empty.');
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(await run());

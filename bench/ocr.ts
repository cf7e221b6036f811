// OCR: ream's path (an image document per page: the pool thread decodes it and recognises it,
// with the tesseract program and with tesseract.js) against Debian's `tesseract` CLI on the very same 300 DPI page images, with the
// same model (the npm package's best_int data, via --tessdata-dir), with 1 and 2 threads, in
// the same run. The images are the corpus's English scans rendered as ream renders PDF pages
// for OCR. `node bench/ocr.ts` runs it alone; bench/run.ts includes it.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { DEFAULT_OCR_DPI, languageDataFile } from '../src/formats/ocr/ocr-options.ts';
import { renderPage } from '../src/formats/pdf/page-image.ts';
import { withDocument } from '../src/formats/pdf/pdfjs.ts';

const corpusDir = process.env.REAM_CORPUS ?? fileURLToPath(new URL('../../shared/corpus/', import.meta.url));
const repeats = Number(process.env.BENCH_REPEATS ?? 1);
const THREADS = [1, 2];
/** The corpus's English scans (tagged needs-ocr), each page twice so that two threads share the work evenly. */
const PAGES = [
  { name: 'npm-pdf-extract__single_page_raw.pdf', page: 1 },
  { name: 'npm-pdf-extract__multipage_raw.pdf', page: 1 },
  { name: 'npm-pdf-extract__multipage_raw.pdf', page: 2 },
];
const COPIES = 2;

interface Measure {
  pages: number;
  wallMs: number;
  cpuMs?: number;
  maxRssKb?: number;
}

const ENGINES = ['tesseract', 'tesseractjs'] as const;

function runReam(engine: string, threads: number, images: string[]): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [fileURLToPath(new URL('./ocr-ream.ts', import.meta.url)), engine, String(threads), ...images], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`ocr-ream.ts exited with ${code}`));
      const result = JSON.parse(out) as { pages: number; failures: number; cpuMs: number; maxRssKb: number };
      if (result.failures) return reject(new Error(`ocr-ream.ts: ${result.failures} pages failed`));
      resolve({ pages: result.pages, wallMs, cpuMs: result.cpuMs, maxRssKb: result.maxRssKb });
    });
  });
}

/** The CLI over the images, `threads` processes at a time (one engine thread each), under GNU time for the largest RSS. */
function runCli(threads: number, images: string[], tessdata: string): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const args = ['-f', '%M %U %S', 'xargs', '-0', '-P', String(threads), '-I{}', 'tesseract', '{}', '/dev/null', '-l', 'eng', '--dpi', String(DEFAULT_OCR_DPI), '--tessdata-dir', tessdata, 'quiet'];
    const child = execFile('/usr/bin/time', args, { env: { ...process.env, OMP_THREAD_LIMIT: '1' } }, (error, _stdout, stderr) => {
      if (error) return reject(new Error(`tesseract failed: ${error.message}`));
      // GNU time over xargs: the largest RSS and the CPU of the tesseract processes it waited for.
      const [maxRssKb, user, system] = (stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
      const cpuMs = ((user ?? NaN) + (system ?? NaN)) * 1000;
      resolve({
        pages: images.length, wallMs: performance.now() - started,
        ...(Number.isFinite(maxRssKb) ? { maxRssKb } : {}), ...(Number.isFinite(cpuMs) ? { cpuMs } : {}),
      });
    });
    child.stdin?.end(images.join('\0'));
  });
}

const onPath = (command: string): boolean => (process.env.PATH ?? '').split(':').some((dir) => existsSync(`${dir}/${command}`));
const best = (runs: Measure[]): Measure => runs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
const rate = (m: Measure): number => (m.pages / m.wallMs) * 1000;
const mb = (kb: number | undefined): string => (kb === undefined ? 'n/a' : `${Math.round(kb / 1024)} MB`);

export async function run(): Promise<string> {
  const title = '## OCR';
  if (!existsSync(`${corpusDir}/manifest.tsv`)) return `${title}\n\nSkipped: the shared corpus (${corpusDir}) is not available.\n`;
  const dir = await mkdtemp(join(tmpdir(), 'ream-bench-ocr-'));
  try {
    const images: string[] = [];
    for (const { name, page } of PAGES) {
      const png = await withDocument(join(corpusDir, name), async (doc) => renderPage(await doc.getPage(page), DEFAULT_OCR_DPI));
      for (let copy = 0; copy < COPIES; copy++) {
        const path = join(dir, `${name}-${page}-${copy}.png`);
        await writeFile(path, png);
        images.push(path);
      }
    }
    const tessdata = join(dir, 'tessdata');
    await mkdir(tessdata);
    await writeFile(join(tessdata, 'eng.traineddata'), gunzipSync(await readFile(languageDataFile('eng'))));
    const withCli = onPath('tesseract') && existsSync('/usr/bin/time');
    const runs = new Map<string, Measure[]>();
    const record = (key: string, m: Measure): void => void runs.set(key, [...(runs.get(key) ?? []), m]);
    for (let round = 0; round < repeats; round++) {
      for (const threads of THREADS) {
        process.stderr.write(`bench: ocr round ${round + 1}/${repeats}, ${threads} thread(s)\n`);
        for (const engine of ENGINES) {
          if (engine === 'tesseract' && !withCli) continue;
          record(`${engine}:${threads}`, await runReam(engine, threads, images));
        }
        if (withCli) record(`cli:${threads}`, await runCli(threads, images, tessdata));
      }
    }
    const lines = [
      title,
      '',
      `${images.length} page images (${PAGES.length} English scans of the shared corpus, each twice), rendered at ${DEFAULT_OCR_DPI} DPI as ream renders ` +
        `PDF pages for OCR; best of ${repeats} interleaved run(s); each figure is a whole process from spawn to exit, engine start included. ` +
        '**ream**: each image a document (`createFormats` over `createThreadPool`), 2 × threads in flight, with each OCR engine (`ocrEngine`; ' +
        'ream\'s CPU includes its tesseract processes). **tesseract CLI**: ' +
        '`xargs -P threads tesseract … --tessdata-dir` on ream\'s own model (`@tesseract.js-data/eng`, best_int), `OMP_THREAD_LIMIT=1`. ' +
        'RSS: ream\'s is the whole process (all threads); the CLI\'s is the largest single tesseract process.',
      '',
      '| threads | ream engine | ream pages/s | tesseract CLI pages/s | ream ÷ CLI | ream CPU s | CLI CPU s | ream peak RSS | CLI peak RSS per process |',
      '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const threads of THREADS) {
      const cliRuns = runs.get(`cli:${threads}`);
      const cli = cliRuns ? best(cliRuns) : undefined;
      for (const engine of ENGINES) {
        const oursRuns = runs.get(`${engine}:${threads}`);
        if (!oursRuns) continue;
        const ours = best(oursRuns);
        lines.push(
          `| ${threads} | ${engine} | ${rate(ours).toFixed(2)} | ${cli ? rate(cli).toFixed(2) : 'n/a'} | ${cli ? (rate(ours) / rate(cli)).toFixed(2) : 'n/a'} | ` +
            `${((ours.cpuMs ?? 0) / 1000).toFixed(1)} | ${cli?.cpuMs === undefined ? 'n/a' : (cli.cpuMs / 1000).toFixed(1)} | ${mb(ours.maxRssKb)} | ${mb(cli?.maxRssKb)} |`,
        );
      }
    }
    const [load1, load5] = loadavg();
    lines.push('', `Load average while measuring (1 and 5 min, ${cpus().length} cores): ${load1?.toFixed(2)}, ${load5?.toFixed(2)}.`);
    const one = runs.get('tesseractjs:1');
    const two = runs.get('tesseractjs:2');
    if (one && two) {
      const peak = (rs: Measure[]): number => Math.max(...rs.map((r) => r.maxRssKb ?? 0));
      lines.push('', `With tesseract.js a second OCR thread adds ${mb(peak(two) - peak(one))} to ream's peak RSS (its engine, its model and the page it holds); ` +
        'with the tesseract program the engine lives in a child process per page, outside ream\'s RSS (about the CLI\'s figure per page in flight).');
    }
    return lines.join('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(`${await run()}\n`);

// Child process of bench/pdf-extract.ts: ream's extraction path, as the engine drives it.
// `node bench/pdf-extract-ream.ts <threads> <maxMemoryMb> <engine> <file>...` → one JSON line on stdout
// (empty `maxMemoryMb` or `engine`: the defaults).
// Each file is identified and inspected, then split into the engine's default chunks; tasks run
// through a sliding window of 2 × threads (the engine worker's default concurrency) into a pool
// of `threads`, so two threads share a big book the way they would in a real job.
import { basename } from 'node:path';
import { DEFAULT_OCR } from '../src/formats/ocr/ocr-options.ts';
import { createFormats } from '../src/formats/registry.ts';
import type { PdfEngine, ReadLimits, ReadOptions } from '../src/formats/types.ts';
import { planChunks } from '../src/pipeline/chunk-planner.ts';
import { DEFAULT_CHUNK_PAGES } from '../src/pipeline/builtin.ts';
import { createThreadPool } from '../src/runtime/thread-pool.ts';

const [threadsArg = '1', memoryArg = '', engineArg = '', ...files] = process.argv.slice(2);
// Text layers only, as pdftotext reads them: OCR of the corpus's few scans would dominate the time.
const read: ReadOptions = { ocr: { ...DEFAULT_OCR, mode: 'never' }, ...(engineArg ? { pdfEngine: engineArg as PdfEngine } : {}) };
const threads = Number(threadsArg);
const limits: ReadLimits = { maxBytes: 1024 ** 3, maxPages: 10_000 };
const pool = createThreadPool({ threads, ...(memoryArg ? { maxMemoryMb: Number(memoryArg) } : {}) });
const formats = createFormats(pool);

let pages = 0;
let chars = 0;
let failures = 0;
type Job = () => Promise<void>;
const queue: Job[] = files.map((path) => async () => {
  const format = await formats.identify(path, basename(path), limits);
  const { pageCount } = await format.inspect(path, limits, undefined, read);
  for (const chunk of planChunks(pageCount, DEFAULT_CHUNK_PAGES)) {
    queue.push(async () => {
      const extraction = await format.extract(path, { from: chunk.from, to: chunk.to }, undefined, read);
      pages += extraction.pages.length;
      failures += extraction.failures.length;
      for (const page of extraction.pages) chars += page.text.length;
    });
  }
});

/** Runs queued jobs, at most `window` at once, until the queue is empty and nothing runs. */
function drain(window: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let running = 0;
    const pump = (): void => {
      while (running < window && queue.length > 0) {
        const job = queue.shift();
        if (!job) break;
        running++;
        job().then(() => {
          running--;
          pump();
        }, reject);
      }
      if (running === 0 && queue.length === 0) resolve();
    };
    pump();
  });
}

const started = performance.now();
await drain(threads * 2);
const ms = performance.now() - started;
await pool.destroy();
const usage = process.resourceUsage();
const cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000;
process.stdout.write(`${JSON.stringify({ pages, chars, failures, ms, cpuMs, maxRssKb: usage.maxRSS })}\n`);

// Child process of bench/pdf-extract.ts: the whole `ream run` path over the given files, in a
// fresh data dir. `node bench/pdf-extract-cli.ts <threads> <engine> <file>...` → one JSON line on stdout.
// BENCH_NO_INDEX=1: with --no-index (the text not indexed for search). Runs the CLI's bundle (dist/bundle/), as the
// `ream` binary does; BENCH_FROM_SOURCE=1 the TypeScript sources (bench/ream-build.ts).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliModule } from './ream-build.ts';

// As the `ream` binary does (bin/ream.js): compiled code from Node's compile cache.
module.enableCompileCache();
// As `ream run` does (src/cli/main.ts), before the engine's modules load.
const heap = (await import(pathToFileURL(cliModule('cli/process-heap')).href)) as typeof import('../src/cli/process-heap.ts');
heap.capYoungGeneration(heap.RUN_YOUNG_GENERATION_MB);
const { runCommand } = (await import(pathToFileURL(cliModule('cli/run-command')).href)) as typeof import('../src/cli/run-command.ts');

// The main thread's own memory, sampled every 50 ms: where its share of the peak RSS sits.
const peak = { heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  for (const key of Object.keys(peak) as (keyof typeof peak)[]) peak[key] = Math.max(peak[key], m[key]);
}, 50);
sampler.unref();

const [threadsArg = '1', engine = '', ...files] = process.argv.slice(2);
// The main thread's CPU once the CLI's modules are loaded: its start-up share.
const loadedCpu = process.threadCpuUsage();
const dir = await mkdtemp(join(tmpdir(), 'ream-bench-cli-'));
try {
  const summary = await runCommand(files, {
    out: join(dir, 'out.jsonl'),
    dataDir: join(dir, 'data'),
    threads: Number(threadsArg),
    text: 'none',
    resume: false,
    progress: 'none',
    // Text layers only, as pdftotext reads them: OCR of the corpus's few scans would dominate the time.
    ocr: { ocr: 'never' },
    ...(engine ? { pdf: { pdfEngine: engine } } : {}),
    ...(process.env.BENCH_NO_INDEX === '1' ? { index: false } : {}),
    ...(process.env.BENCH_CONCURRENCY ? { concurrency: Number(process.env.BENCH_CONCURRENCY) } : {}),
  }, new AbortController().signal);
  const usage = process.resourceUsage();
  // The main thread's own CPU (the rest is the pool threads'): where ream's overhead sits.
  const mainCpu = process.threadCpuUsage();
  // Files that failed outright; with OCR off the scans end partially_succeeded (needs_ocr), as expected.
  const lines = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n');
  const failed = lines.filter((line) => (JSON.parse(line) as { status: string }).status === 'failed').length;
  process.stdout.write(`${JSON.stringify({
    pages: summary.pages,
    failures: failed,
    cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
    mainCpuMs: Math.round(((mainCpu.user + mainCpu.system) / 1000)),
    mainLoadCpuMs: Math.round(((loadedCpu.user + loadedCpu.system) / 1000)),
    maxRssKb: usage.maxRSS,
    mainPeakMb: Object.fromEntries(Object.entries(peak).map(([key, bytes]) => [key, Math.round(bytes / 2 ** 20)])),
  })}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}

// One contender of bench/ocr.ts, in a process of its own: ream's image reader (createFormats
// over createThreadPool) OCRs the page images named on the command line, 2 × threads pages in
// flight, and prints pages, CPU and peak RSS as JSON. Usage: node bench/ocr-ream.ts <threads> <png…>
import { DEFAULT_OCR } from '../src/formats/ocr/ocr-options.ts';
import { createFormats } from '../src/formats/registry.ts';
import { createThreadPool } from '../src/runtime/thread-pool.ts';

const [threadsArg, ...images] = process.argv.slice(2);
const threads = Number(threadsArg);
const pool = createThreadPool({ threads });
const formats = createFormats(pool);
const limits = { maxBytes: 2 ** 30, maxPages: 10_000 };
let pages = 0;
let failures = 0;
let characters = 0;
const queue = [...images];
async function worker(): Promise<void> {
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    const format = await formats.identify(path, undefined, limits);
    const { pageCount } = await format.inspect(path, limits);
    const read = await format.extract(path, { from: 0, to: pageCount }, undefined, { ocr: DEFAULT_OCR });
    pages += read.pages.length;
    failures += read.failures.length;
    characters += read.pages.reduce((n, p) => n + p.text.length, 0);
  }
}
await Promise.all(Array.from({ length: 2 * threads }, worker));
await pool.destroy();
const usage = process.resourceUsage();
process.stdout.write(JSON.stringify({ pages, failures, characters, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, maxRssKb: usage.maxRSS }));

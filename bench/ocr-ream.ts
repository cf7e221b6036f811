// One contender of bench/ocr.ts, in a process of its own: ream's image reader (createFormats
// over createThreadPool) OCRs the page images named on the command line, 2 × threads pages in
// flight with the OCR engine named, and prints pages, CPU (the native engine's processes
// included) and peak RSS as JSON. Usage: node bench/ocr-ream.ts <engine> <threads> <png…>
import { readFileSync } from 'node:fs';
import { DEFAULT_OCR } from '../src/formats/ocr/ocr-options.ts';
import { createFormats } from '../src/formats/registry.ts';
import type { OcrEngine } from '../src/formats/types.ts';
import { createThreadPool } from '../src/runtime/thread-pool.ts';

const [engineArg, threadsArg, ...images] = process.argv.slice(2);
const engine = engineArg as OcrEngine;
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
    const read = await format.extract(path, { from: 0, to: pageCount }, undefined, { ocr: { ...DEFAULT_OCR, engine } });
    pages += read.pages.length;
    failures += read.failures.length;
    characters += read.pages.reduce((n, p) => n + p.text.length, 0);
  }
}
await Promise.all(Array.from({ length: 2 * threads }, worker));
await pool.destroy();
const usage = process.resourceUsage();
// The tesseract processes ream waited for: cutime and cstime of /proc/self/stat, in 1/100 s.
const stat = readFileSync('/proc/self/stat', 'utf8');
const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
const childrenMs = (Number(fields[13]) + Number(fields[14])) * 10;
const cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000 + (Number.isFinite(childrenMs) ? childrenMs : 0);
process.stdout.write(JSON.stringify({ pages, failures, characters, cpuMs, maxRssKb: usage.maxRSS }));

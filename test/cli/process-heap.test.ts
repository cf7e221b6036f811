// `ream rows` keeps its heap near what is alive (src/cli/process-heap.ts): in a process of its own,
// since the flags it sets are the process's.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const child = String.raw`
import { keepHeapSmall, youngGenerationMb } from ${JSON.stringify(new URL('../../src/cli/process-heap.ts', import.meta.url).href)};
const cap = process.argv[1] === 'capped' ? 8 : undefined;
if (cap) keepHeapSmall(cap);
let keep = [];
let young = 0;
for (let i = 0; i < 300; i++) {
  // Batches of row-like objects, a few alive at a time: a high allocation rate, little kept.
  keep.push(Array.from({ length: 2000 }, (_, j) => ({ page: j, text: 'order: ' + j + ' note: ' + 'x'.repeat(40), cells: { a: String(j) } })));
  if (keep.length > 4) keep.shift();
  if (i % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 110)); // lets the watch (every 100 ms) look
  young = Math.max(young, youngGenerationMb());
}
process.stdout.write(String(young));
`;

async function peakYoungMb(mode: 'capped' | 'free'): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', child, mode]);
  return Number(stdout);
}

void test('the young generation stops growing at the cap; without it V8 grows it further', async () => {
  const [capped, free] = await Promise.all([peakYoungMb('capped'), peakYoungMb('free')]);
  assert.ok(capped <= 16, `capped at 8 MB: peaked at ${capped} MB (one doubling past the cap at most)`);
  assert.ok(free > capped, `without the cap: ${free} MB`);
});

// The cap stops growth in every thread of the process, so a pool thread made after it would keep
// a 1 MB semi-space and scavenge every MB it allocates; it starts at 4 MB instead (`ream run`).
const threadChild = String.raw`
import { Worker } from 'node:worker_threads';
import { capYoungGeneration } from ${JSON.stringify(new URL('../../src/cli/process-heap.ts', import.meta.url).href)};
capYoungGeneration(1); // reached at once: growth stops before the thread is made
// The thread's code is a module too (it inherits --input-type=module).
const source = "import { getHeapSpaceStatistics } from 'node:v8'; import { parentPort } from 'node:worker_threads'; const keep = [];" +
  "for (let i = 0; i < 200000; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 1000) keep.shift(); }" +
  "parentPort.postMessage(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20);";
const worker = new Worker(source, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 16 } });
worker.once('message', (mb) => { process.stdout.write(String(mb)); void worker.terminate(); });
`;

void test('a thread made after the cap keeps a young generation of at least 4 MB', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', threadChild]);
  assert.ok(Number(stdout) >= 4, `the thread's young generation: ${stdout} MB`);
});

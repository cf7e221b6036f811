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

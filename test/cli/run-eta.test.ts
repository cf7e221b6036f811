import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCommand } from '../../src/cli/run-command.ts';
import { RunEta } from '../../src/cli/run-eta.ts';

// While its files still go into the job, a run's ETA counts the files not added yet: the job
// knows only those added, and with small files added about as fast as they are read its own
// ETA said "0s" from the first progress line to the last.

/** Small files, added about as fast as they are read. */
const FILES = 1000;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-eta-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('files not added yet count as the average document at the rate seen so far', () => {
  const eta = new RunEta();
  const progress = { pagesDone: 100, pagesTotal: 120, documentsTotal: 60, documentsUncounted: 0, etaSeconds: 0 };
  assert.equal(eta.estimate(progress, 1000, 10_000), null, 'no rate on the first sight');
  // 100 pages in 10 s: 10 pages/s; 120 + 1000 files × 2 pages each = 2120 expected, 1900 left.
  assert.equal(eta.estimate({ ...progress, pagesDone: 200, pagesTotal: 220, documentsTotal: 110 }, 1000, 20_000), Math.round((220 + 2000 - 200) / 10));
  // Every file in: the job's own ETA.
  assert.equal(eta.estimate({ ...progress, etaSeconds: 7 }, 0, 30_000), 7);
});

// 1,000 small files: about 7 s on an idle 2-core machine, more than one 5 s progress line; a
// loaded CI machine has taken 300 s for 1,500, so the test may take 15 minutes.
test('ream run --progress lines never says "ETA 0s" while files are still to go in', { timeout: 900_000 }, async (t) => {
  const work = join(dir, 'many');
  await mkdir(join(work, 'in'), { recursive: true });
  for (let i = 0; i < FILES; i++) await writeFile(join(work, 'in', `n${i}.txt`), `note ${i}\n`);
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  t.mock.method(process.stderr, 'write', (chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.startsWith('progress:')) written.push(chunk);
    return typeof chunk === 'string' && /^(\[|progress:)/.test(chunk) ? true : write(chunk, ...(rest as []));
  });
  const summary = await runCommand([join(work, 'in')], { out: join(work, 'out.jsonl'), dataDir: join(work, '.ream'), text: 'none', progress: 'lines', threads: 1 }, new AbortController().signal);
  assert.equal(summary.succeeded, FILES);
  const midway = written.slice(1).filter((line) => {
    const [, done, total] = /^progress: (\d+)\/(\d+) files/.exec(line) ?? [];
    return Number(done) < Number(total) - 50;
  });
  if (midway.length === 0) t.diagnostic('the run was too quick for a progress line midway');
  for (const line of midway) assert.doesNotMatch(line, /ETA 0s/, line);
});

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { run } from './run-process.ts';

// The bar `ream run` leaves on the terminal is the run as it ended: every file and page counted,
// never the figure of the last event (sent before the last lines were written).

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-progress-bar-'));
  await mkdir(join(dir, 'in'));
  for (let i = 0; i < 20; i++) await writeFile(join(dir, 'in', `n${i}.txt`), `note ${i}\n`);
  // The bar is drawn on a terminal only: standard error made to say it is one.
  await writeFile(join(dir, 'tty.mjs'), 'process.stderr.isTTY = true; process.stderr.columns = 200;\n');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('the last bar of a run shows all its files and pages', async () => {
  const result = await run(['run', 'in', '--out', 'out.jsonl', '--data-dir', 'data', '--progress', 'bar'], dir, {
    NODE_OPTIONS: `--import ${join(dir, 'tty.mjs')}`,
  });
  assert.equal(result.code, 0, result.stderr);
  // Each redraw starts by moving the cursor to the line's start (ESC [1G).
  const bars = result.stderr.replaceAll(`${String.fromCharCode(27)}[1G`, '\n').split(/[\r\n]/).filter((line) => line.includes(' files | '));
  const last = bars.at(-1) ?? '';
  assert.match(last, /100% \| 20\/20 files \| 20\/20 pages /, `the last bar: ${last}`);
});

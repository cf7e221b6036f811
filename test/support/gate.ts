import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GateMark } from '../fixtures/slow-pipeline.ts';

/** The first-page texts of the gated chunks that left `what` in `markDir` (see the `gated` pipeline). */
export async function gateMarks(markDir: string, what: GateMark): Promise<string[]> {
  await mkdir(markDir, { recursive: true });
  const names = (await readdir(markDir)).filter((name) => name.startsWith(`${what}-`));
  return Promise.all(names.map((name) => readFile(join(markDir, name), 'utf8')));
}

/** Waits until a gated chunk whose first page's text passes `match` has left `what` in `markDir`. */
export async function waitForMark(markDir: string, what: GateMark, match: (text: string) => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await gateMarks(markDir, what)).some(match)) {
    if (Date.now() > until) throw new Error(`no gated chunk ${what} in ${markDir} within ${timeoutMs} ms (marks: ${(await readdir(markDir)).join(', ')})`);
    await sleep(50);
  }
}

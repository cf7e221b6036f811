import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collectFiles } from '../../src/cli/collect-files.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-collect-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const displays = async (inputs: string[], cwd: string): Promise<string[]> => (await collectFiles(inputs, cwd)).map((file) => file.display);

test('a path that exists is taken as it is, even with glob characters in its name; a pattern is still a pattern', async () => {
  const work = join(dir, 'glob-names');
  await mkdir(join(work, 'in'), { recursive: true });
  await mkdir(join(work, 'dl (1)'), { recursive: true });
  await writeFile(join(work, 'in/scan (2).pdf'), 'x');
  await writeFile(join(work, 'in/+(x).pdf'), 'x');
  await writeFile(join(work, 'in/[draft] a.pdf'), 'x');
  await writeFile(join(work, 'dl (1)/b.txt'), 'x');
  assert.deepEqual(await displays(['in/scan (2).pdf'], work), ['in/scan (2).pdf']);
  assert.deepEqual(await displays(['in/+(x).pdf', 'in/[draft] a.pdf'], work), ['in/+(x).pdf', 'in/[draft] a.pdf']);
  assert.deepEqual(await displays(['dl (1)'], work), ['dl (1)/b.txt']);
  assert.deepEqual(await displays(['in/*.pdf'], work), ['in/+(x).pdf', 'in/[draft] a.pdf', 'in/scan (2).pdf']);
  await assert.rejects(collectFiles(['in/nothing-*.pdf'], work), /no file matches in\/nothing-\*\.pdf/);
});

import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collectFiles } from '../../src/cli/collect-files.ts';
import { ReamError } from '../../src/errors.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-collect-'));
  await chmod(dir, 0o755); // for the test that reads it as another user
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

/**
 * Runs `read` as the user `nobody` (65534) when the tests run as root, who reads every folder
 * whatever its mode: only then can a folder be unreadable. The effective user is changed for the
 * whole process (threads included) and changed back at once.
 */
async function asUnprivileged<T>(read: () => Promise<T>): Promise<T> {
  if (process.geteuid?.() !== 0) return read();
  assert.ok(process.seteuid, 'seteuid exists where geteuid does');
  process.seteuid(65534);
  try {
    return await read();
  } finally {
    process.seteuid(0);
  }
}

test('a folder that cannot be read stops the collection, naming it; a link that leads nowhere is listed, to get its failed line', async (t) => {
  if (process.platform === 'win32') {
    t.skip('no POSIX modes nor seteuid on Windows');
    return;
  }
  const work = join(dir, 'unreadable');
  await mkdir(join(work, 'in/locked'), { recursive: true });
  await writeFile(join(work, 'in/a.pdf'), 'x');
  await writeFile(join(work, 'in/locked/c.pdf'), 'x');
  await chmod(join(work, 'in/locked'), 0o000);
  try {
    await assert.rejects(asUnprivileged(() => collectFiles(['in'], work)), (error: unknown) =>
      error instanceof ReamError && error.code === 'io_error' && /cannot read the folder in\/locked \(EACCES\)/.test(error.message));
    // Named itself: the same, not "no file in in/locked", which hid why.
    await assert.rejects(asUnprivileged(() => collectFiles(['in/locked'], work)), /cannot read the folder in\/locked \(EACCES\)/);
  } finally {
    await chmod(join(work, 'in/locked'), 0o755);
  }

  await mkdir(join(work, 'links'), { recursive: true });
  await writeFile(join(work, 'links/a.txt'), 'x');
  await symlink(join(work, 'links/moved-away.pdf'), join(work, 'links/gone.pdf'));
  assert.deepEqual(await displays(['links'], work), ['links/a.txt', 'links/gone.pdf']);
});

test('each real folder is read once: a link to a folder read already (an ancestor, a sibling) adds no second name for its files', async () => {
  const work = join(dir, 'links-to-folders');
  await mkdir(join(work, 'in/sub'), { recursive: true });
  await mkdir(join(work, 'in/a'), { recursive: true });
  await mkdir(join(work, 'in/z'), { recursive: true });
  await mkdir(join(work, 'outside'), { recursive: true });
  await writeFile(join(work, 'in/sub/x.txt'), 'x');
  await writeFile(join(work, 'in/a/y.txt'), 'y');
  await writeFile(join(work, 'in/z/z.txt'), 'z');
  await writeFile(join(work, 'outside/o.txt'), 'o');
  await symlink('..', join(work, 'in/sub/loop'));
  await symlink('a', join(work, 'in/b'));
  // Sorts before the folder it leads to: the folder still keeps its own name.
  await symlink('z', join(work, 'in/0-first'));
  // A folder reached only through a link is read, under the link's name.
  await symlink('../outside', join(work, 'in/out-link'));
  assert.deepEqual(await displays(['in'], work), ['in/a/y.txt', 'in/out-link/o.txt', 'in/sub/x.txt', 'in/z/z.txt']);
  assert.deepEqual(await displays(['in', 'in/sub'], work), ['in/a/y.txt', 'in/out-link/o.txt', 'in/sub/x.txt', 'in/z/z.txt'], 'a folder named twice is no error');
});

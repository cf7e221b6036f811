import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pointedJobs } from '../../src/cli/gc-command.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import { startServeProcess } from '../support/serve-process.ts';
import { run } from './run-process.ts';

// `ream gc`: an embedded data dir gives its disk space back (SQLite never shrinks its file, and
// older versions left empty blob folders), and the jobs an older `--no-resume` replaced but
// kept (with their results and documents) are found, and removed when asked.

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-gc-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Files of random text (~40 KB each): their results and search entries fill the database. */
async function notes(folder: string, count: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (let i = 0; i < count; i++) await writeFile(join(folder, `n${i}.txt`), randomBytes(30_000).toString('base64'));
}

function blobFiles(blobs: string): number {
  let count = 0;
  for (const top of readdirSync(blobs)) {
    if (top === 'tmp') continue;
    for (const sub of readdirSync(join(blobs, top))) count += readdirSync(join(blobs, top, sub)).length;
  }
  return count;
}

test('ream gc finds a job no command resumes; --remove removes it with its documents and blobs, and the database shrinks', async () => {
  await notes(join(dir, 'in'), 10);
  await notes(join(dir, 'old'), 10);
  const data = join(dir, 'data');
  const first = await run(['run', 'in', '--out', 'out.jsonl', '--data-dir', 'data', '--progress', 'none'], dir);
  assert.equal(first.code, 0, first.stderr);
  // What an older `ream run --no-resume` left: the job it replaced, ended, no command pointing to it.
  const pointers = new Set(readdirSync(join(data, 'runs')));
  const old = await run(['run', 'old', '--out', 'old.jsonl', '--data-dir', 'data', '--progress', 'none'], dir);
  assert.equal(old.code, 0, old.stderr);
  for (const name of readdirSync(join(data, 'runs'))) if (!pointers.has(name)) await rm(join(data, 'runs', name));
  let kept: string;
  {
    const ream = await createReam({ dataDir: data, work: false });
    try {
      assert.equal((await ream.listJobs({ tenantId: 'local' })).items.length, 2);
      kept = [...pointedJobs(data)][0] ?? '';
    } finally {
      await ream.close();
    }
  }
  // That look was the library's: the data dir says so, and --remove would refuse it (tested below).
  await rm(join(data, 'opened-by-library'));
  // Older versions' leftovers in the blob folder: an empty ab/cd folder, a killed put's temp file.
  // (under a first folder no blob of the run uses, so that both of its folders are empty)
  const used = new Set(readdirSync(join(data, 'blobs')));
  const free = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).find((name) => !used.has(name)) ?? 'ff';
  await mkdir(join(data, 'blobs', free, 'ee'), { recursive: true });
  await writeFile(join(data, 'blobs', 'tmp', 'killed.part'), 'half a file');
  assert.equal(blobFiles(join(data, 'blobs')), 20);

  const found = await run(['gc', '--data-dir', 'data'], dir);
  assert.equal(found.code, 0, found.stderr);
  assert.match(found.stdout, /found: 1 ended job\(s\) no ream run or ream rows command resumes \(add --remove/);
  assert.match(found.stdout, /blob folder: 2 empty folder\(s\) and 1 unfinished temp file\(s\) removed/);
  assert.equal(blobFiles(join(data, 'blobs')), 20, 'nothing removed without --remove');
  assert.deepEqual(await readdir(join(data, 'blobs', 'tmp')), []);

  const before = statSync(join(data, 'ream.db')).size;
  const removed = await run(['gc', '--data-dir', 'data', '--remove'], dir);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /removed: 1 ended job\(s\) no command resumes, 10 document\(s\) no job uses \(10 blob\(s\), 0\.\d MB\)/);
  assert.equal(blobFiles(join(data, 'blobs')), 10, 'the removed documents\' blobs went');
  const after = statSync(join(data, 'ream.db')).size;
  assert.ok(after < before * 0.85, `the database shrank: ${before} -> ${after} bytes`);
  const ream = await createReam({ dataDir: data, work: false });
  try {
    assert.deepEqual((await ream.listJobs({ tenantId: 'local' })).items.map((job) => job.id), [kept]);
    await rm(join(data, 'opened-by-library'));
  } finally {
    await ream.close();
  }
  // The command's own job is untouched: the same command resumes it.
  const again = await run(['run', 'in', '--out', 'out.jsonl', '--data-dir', 'data', '--progress', 'none'], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /10 already done \(resumed\)/);
});

test('ream gc refuses a folder that is no data dir, and a data dir another process holds', async () => {
  const missing = await run(['gc', '--data-dir', 'nowhere'], dir);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no data dir nowhere .*\[not_found\]/);
  const data = join(dir, 'held');
  const ream = await createReam({ dataDir: data, work: false });
  try {
    const held = await run(['gc', '--data-dir', 'held'], dir);
    assert.equal(held.code, 2);
    assert.match(held.stderr, /is in use by process \d+.*\[validation_failed\]/);
  } finally {
    await ream.close();
  }
});

test('ream gc leaves a served data dir\'s jobs and documents alone: not counted, and --remove refused', async () => {
  const data = join(dir, 'served');
  const server = await startServeProcess(['--data-dir', data]);
  let jobId: string;
  let laterId: string;
  try {
    const form = new FormData();
    form.append('file', new Blob(['a note kept for later']), 'later.txt');
    const uploaded = await fetch(`${server.url}/v1/documents`, { method: 'POST', body: form });
    assert.equal(uploaded.status, 201);
    laterId = ((await uploaded.json()) as { items: { id: string }[] }).items[0]?.id ?? '';
    const form2 = new FormData();
    form2.append('file', new Blob(['a note read now']), 'now.txt');
    const { items } = await (await fetch(`${server.url}/v1/documents`, { method: 'POST', body: form2 })).json() as { items: { id: string }[] };
    const created = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ documents: [items[0]?.id] }) });
    assert.equal(created.status, 202);
    jobId = (await created.json() as { id: string }).id;
    for (let status = ''; status !== 'succeeded';) {
      status = (await (await fetch(`${server.url}/v1/jobs/${jobId}`)).json() as { status: string }).status;
      await new Promise((wait) => setTimeout(wait, 100));
    }
  } finally {
    await server.stop();
  }
  const found = await run(['gc', '--data-dir', 'served'], dir);
  assert.equal(found.code, 0, found.stderr);
  assert.match(found.stdout, /found: 0 ended job\(s\)/);
  const removed = await run(['gc', '--data-dir', 'served', '--remove'], dir);
  assert.equal(removed.code, 2);
  assert.match(removed.stderr, /served was served .*--remove.*\[validation_failed\]/);
  const ream = await createReam({ dataDir: data, work: false });
  try {
    assert.deepEqual((await ream.listJobs({ tenantId: 'local' })).items.map((job) => job.id), [jobId]);
    assert.ok(await ream.getDocument(laterId), 'the document no job uses yet is kept');
  } finally {
    await ream.close();
  }
});

test('ream gc --remove is refused in a data dir the library opened: its jobs, which no command points to, stay', async () => {
  await notes(join(dir, 'lib-in'), 3);
  const data = join(dir, 'library');
  let jobId: string;
  {
    const ream = await createReam({ dataDir: data });
    try {
      const job = await ream.submit({ files: readdirSync(join(dir, 'lib-in')).map((name) => join(dir, 'lib-in', name)) });
      await ream.wait(job.id);
      jobId = job.id;
    } finally {
      await ream.close();
    }
  }
  const found = await run(['gc', '--data-dir', 'library'], dir);
  assert.equal(found.code, 0, found.stderr);
  const removed = await run(['gc', '--data-dir', 'library', '--remove'], dir);
  assert.equal(removed.code, 2);
  assert.match(removed.stderr, /library was opened through the library \(createReam: its opened-by-library file says so\).*\[validation_failed\]/);
  // A command run in it later does not make the library's job a command's.
  const later = await run(['run', 'lib-in', '--out', 'lib.jsonl', '--data-dir', 'library', '--progress', 'none'], dir);
  assert.equal(later.code, 0, later.stderr);
  assert.equal((await run(['gc', '--data-dir', 'library', '--remove'], dir)).code, 2);
  const ream = await createReam({ dataDir: data, work: false });
  try {
    assert.equal((await ream.getJob(jobId))?.status, 'succeeded', 'the library\'s job and its results are still there');
    assert.equal((await ream.jobDocuments(jobId)).length, 3);
  } finally {
    await ream.close();
  }
});

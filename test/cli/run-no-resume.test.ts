import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { readFileSync } from 'node:fs';
import { readLines } from './lines.ts';
import { run } from './run-process.ts';

// `ream run … --no-resume` starts over: the job it replaces (its results, checkpoints and
// events) is removed, so a command run again and again (a nightly cron) does not grow the data
// dir by a whole job each time.

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-no-resume-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('--no-resume removes the job it replaces; the data dir holds one job however often the command runs', async () => {
  const work = join(dir, 'again');
  await mkdir(join(work, 'in'), { recursive: true });
  for (let i = 0; i < 5; i++) await writeFile(join(work, 'in', `n${i}.txt`), `note ${i}\n`);
  const args = ['run', 'in', '--out', 'out.jsonl', '--data-dir', 'data', '--progress', 'none'];
  for (const extra of [[], ['--no-resume'], ['--no-resume']]) {
    const result = await run([...args, ...extra], work);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readLines(join(work, 'out.jsonl')).length, 5);
  }
  const ream = await createReam({ dataDir: join(work, 'data'), work: false });
  try {
    const jobs = (await ream.listJobs({ tenantId: 'local' })).items;
    assert.equal(jobs.length, 1, `one job, not one per run: ${jobs.map((job) => `${job.id} ${job.status}`).join(', ')}`);
    assert.equal(jobs[0]?.status, 'succeeded');
    // Its documents stay (another run may name the same content): only the replaced job's records go.
    assert.equal((await ream.jobDocuments(jobs[0].id)).length, 5);
  } finally {
    await ream.close();
  }
});

test('--no-resume with other settings removes the job whose lines it replaces too', async () => {
  const work = join(dir, 'other-settings');
  await mkdir(join(work, 'in'), { recursive: true });
  for (let i = 0; i < 3; i++) await writeFile(join(work, 'in', `n${i}.txt`), `note ${i}\n`);
  const args = ['run', 'in', '--out', 'out.jsonl', '--data-dir', 'data', '--progress', 'none'];
  for (const extra of [[], ['--chunk-pages', '5', '--no-resume'], ['--max-pages', '50', '--no-resume']]) {
    const result = await run([...args, ...extra], work);
    assert.equal(result.code, 0, result.stderr);
  }
  const ream = await createReam({ dataDir: join(work, 'data'), work: false });
  try {
    const jobs = (await ream.listJobs({ tenantId: 'local' })).items;
    assert.deepEqual(jobs.map((job) => job.options), [{ maxPages: 50 }], 'only the job of the lines in out.jsonl is left');
  } finally {
    await ream.close();
  }
});

test('--no-resume refused because the data dir is in use leaves the results file as it was', async () => {
  const work = join(dir, 'in-use');
  await mkdir(join(work, 'in'), { recursive: true });
  for (let i = 0; i < 3; i++) await writeFile(join(work, 'in', `n${i}.txt`), `note ${i}\n`);
  const args = ['run', 'in', '--out', 'out.jsonl', '--data-dir', 'data', '--progress', 'none'];
  assert.equal((await run(args, work)).code, 0);
  const before = readFileSync(join(work, 'out.jsonl'), 'utf8');
  const holder = await createReam({ dataDir: join(work, 'data'), work: false });
  try {
    const refused = await run([...args, '--no-resume'], work);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /in use by process/);
  } finally {
    await holder.close();
  }
  assert.equal(readFileSync(join(work, 'out.jsonl'), 'utf8'), before, 'its lines kept: the run that would replace them never started');
});

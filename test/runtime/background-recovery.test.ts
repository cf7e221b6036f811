// Recovery at open in the background (`recover: 'background'`, what `ream serve` uses): the ream
// is returned before a backlog of unfinished jobs is seen to, recovery then runs to its end and
// says how long it took; closing meanwhile stops it, and the next open finishes the rest. The
// default still returns only once recovery has run.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { engineOf } from '../../src/runtime/internals.ts';
import type { ReamError } from '../../src/errors.ts';

const BACKLOG = 40;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-background-recovery-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * A data dir whose jobs are unfinished (`queued`) with every document ended, as a crash between a document's
 * end and its job's close leaves them: recovery closes each.
 */
async function backlog(dataDir: string, count = BACKLOG): Promise<string[]> {
  const ream = await createReam({ dataDir, threads: 1, work: false });
  const ids: string[] = [];
  try {
    const store = engineOf(ream).ports.store;
    for (let n = 0; n < count; n++) {
      const file = join(dir, `file-${n}.txt`);
      await writeFile(file, `document ${n}\n`);
      const job = await ream.createJob({});
      const { documentId } = await ream.addFile(job.id, { path: file });
      await store.updateJobDocument(job.id, documentId, { status: 'succeeded', finishedAt: Date.now() });
      ids.push(job.id);
    }
  } finally {
    await ream.close();
  }
  return ids;
}

test("recover: 'background' returns the ream before recovery ends, then recovery sees every job through and says how long it took", async () => {
  const dataDir = join(dir, 'background');
  const jobs = await backlog(dataDir);
  const told: { durationMs?: number; error?: ReamError | undefined }[] = [];
  let recovered: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (recovered = resolve));
  const ream = await createReam({ dataDir, threads: 1, work: false, recover: 'background', onRecovered: (durationMs, error) => {
    told.push({ durationMs, error });
    recovered();
  } });
  try {
    assert.equal(told.length, 0, 'the ream is returned before recovery has run');
    const statuses = async (): Promise<string[]> => Promise.all(jobs.map(async (id) => (await ream.getJob(id))?.status ?? 'gone'));
    assert.ok((await statuses()).includes('queued'), 'some jobs are not seen to yet');
    await done;
    assert.equal(told.length, 1);
    assert.equal(told[0]?.error, undefined);
    assert.ok((told[0]?.durationMs ?? -1) >= 0);
    assert.deepEqual(new Set(await statuses()), new Set(['succeeded']));
  } finally {
    await ream.close();
  }
});

test('closing while recovery runs in the background stops it; the default open returns once recovery has run', async () => {
  const dataDir = join(dir, 'closed');
  const jobs = await backlog(dataDir);
  const told: (string | undefined)[] = [];
  const first = await createReam({ dataDir, threads: 1, work: false, recover: 'background', onRecovered: (_ms, error) => told.push(error?.code) });
  await first.close(); // returns: recovery stopped between two jobs
  // Said once, and not as done: the jobs it did not reach are still to be seen to.
  assert.deepEqual(told, ['cancelled']);
  let toldAt: number | undefined;
  const second = await createReam({ dataDir, threads: 1, work: false, onRecovered: (durationMs) => (toldAt = durationMs) });
  try {
    assert.notEqual(toldAt, undefined, 'awaited: told before the ream is returned');
    const statuses = await Promise.all(jobs.map(async (id) => (await second.getJob(id))?.status));
    assert.deepEqual(new Set(statuses), new Set(['succeeded']));
  } finally {
    await second.close();
  }
});

test("recover: 'background' lets the event loop go round while it runs: timers and requests are not held to its end", async () => {
  const dataDir = join(dir, 'turns');
  // Enough jobs that seeing to them takes well over the 10 ms recovery holds the loop at most.
  await backlog(dataDir, 4 * BACKLOG);
  let recoveredAt: number | undefined;
  const ream = await createReam({ dataDir, threads: 1, work: false, recover: 'background', onRecovered: () => (recoveredAt = performance.now()) });
  try {
    // On SQLite every await of recovery answers on this thread at once: without turns it ran to
    // its end before any timer (the server's listening, a request, a stop signal).
    const timerAt = await new Promise<number>((resolve) => setTimeout(() => resolve(performance.now()), 0));
    assert.equal(recoveredAt, undefined, `a timer set as recovery began fired only after it ended (at ${timerAt} ms)`);
  } finally {
    await ream.close();
  }
});

test("recover: 'background' with recoverAfter begins once it settles; a close before then does not wait for it", async () => {
  const dataDir = join(dir, 'after');
  const jobs = await backlog(dataDir);
  let open: () => void = () => undefined;
  const told: (string | undefined)[] = [];
  let recovered: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (recovered = resolve));
  const ream = await createReam({ dataDir, threads: 1, work: false, recover: 'background', recoverAfter: new Promise<void>((resolve) => (open = resolve)), onRecovered: (_ms, error) => {
    told.push(error?.code);
    recovered();
  } });
  try {
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(told, [], 'not begun before the gate opens');
    assert.deepEqual(await ream.ready(), { recovery: 'running' }, 'ready, and saying recovery is still to run');
    const statuses = async (): Promise<string[]> => Promise.all(jobs.map(async (id) => (await ream.getJob(id))?.status ?? 'gone'));
    assert.deepEqual(new Set(await statuses()), new Set(['queued']));
    open();
    await done;
    assert.deepEqual(told, [undefined]);
    assert.deepEqual(await ream.ready(), { recovery: 'done' });
    assert.deepEqual(new Set(await statuses()), new Set(['succeeded']));
  } finally {
    await ream.close();
  }
  const never = await createReam({ dataDir: join(dir, 'never'), threads: 1, work: false, recover: 'background', recoverAfter: new Promise<void>(() => undefined) });
  await never.close(); // returns: the gate that never opens is not waited for
});


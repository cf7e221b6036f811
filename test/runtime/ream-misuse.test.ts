// The library used wrongly: every mistake is refused with a code, at the call, and nothing is
// left behind (no job, no hung promise, no crash).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { createReam, type Ream, type ReamOptions } from '../../src/runtime/create-ream.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { writePdf, numberedPages } from '../support/make-pdf.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-misuse-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createReam refuses settings it cannot work with, before anything opens', () => {
  // Each of these once opened an engine that left every job queued (no thread or no slot, and
  // `close` then waited forever) or failed every task with `timeout`.
  const bad: Array<[string, Record<string, unknown>]> = [
    ['no thread', { threads: 0 }],
    ['negative threads', { threads: -2 }],
    ['no slot', { concurrency: 0 }],
    ['a fraction of a slot', { concurrency: 1.5 }],
    ['a negative timeout', { taskTimeoutMs: -1 }],
    ['a timeout past a timer\'s range', { taskTimeoutMs: 2 ** 31 }],
    ['no lease', { leaseMs: 0 }],
    ['no attempt', { maxAttempts: 0 }],
    ['a number as text', { threads: '2' }],
  ];
  for (const [what, options] of bad) {
    test(what, async () => {
      const dataDir = join(dir, `bad-${what.replace(/\W+/g, '-')}`);
      await rejectsWithCode(createReam({ dataDir, ...options }), 'validation_failed', /createReam: \w+ must be a whole number/);
      // Nothing was opened: the data dir is free for a good one.
      const ream = await createReam({ dataDir, threads: 1 });
      await ream.close();
    });
  }
  const s3 = { bucket: 'b' };
  const malformed: Array<[string, unknown, RegExp]> = [
    ['options that are null', null, /options must be an object, got null/],
    ['a data dir that is no path', { dataDir: 5 }, /dataDir must be a folder's path, got 5/],
    ['a database URL of another database', { distributed: { redisUrl: 'redis://127.0.0.1:1', databaseUrl: 'mysql://root@127.0.0.1:5432/x', s3 } }, /databaseUrl must start with postgres:\/\/ or postgresql:\/\//],
    ['a Redis URL that is no URL', { distributed: { redisUrl: 'nope', databaseUrl: 'postgres://127.0.0.1:1/x', s3 } }, /redisUrl is not a URL/],
  ];
  for (const [what, options, message] of malformed) {
    test(what, async () => {
      await rejectsWithCode(createReam(options as ReamOptions), 'validation_failed', message);
    });
  }
});

describe('an open ream', () => {
  let ream: Ream;
  let pdf: string;
  before(async () => {
    pdf = join(dir, 'ten.pdf');
    await writePdf(pdf, { pages: numberedPages('Misuse', 10) });
    ream = await createReam({ dataDir: join(dir, 'open'), threads: 1 });
  });
  after(async () => {
    await ream.close();
  });

  test('counts of an unknown job are not_found, as for every other job method', async () => {
    await rejectsWithCode(ream.counts('job_nope'), 'not_found');
    const empty = await ream.createJob({});
    assert.equal((await ream.counts(empty.id)).documentsTotal, 0, 'a job without documents yet has counts of zero');
  });

  test('a priority that is not an integer is refused before any job exists', async () => {
    const before = (await ream.listJobs({ limit: 500 })).items.length;
    for (const priority of [2.5, Number.NaN, Infinity, 'high' as unknown as number]) {
      await rejectsWithCode(ream.submit({ files: [pdf], priority }), 'validation_failed', /priority must be an integer/);
    }
    assert.equal((await ream.listJobs({ limit: 500 })).items.length, before, 'no job left behind');
    const job = await ream.submit({ files: [pdf], priority: 10 });
    assert.equal((await ream.wait(job.id)).status, 'succeeded');
  });

  test('an aborted wait rejects with cancelled, a timed-out one with timeout, the signal\'s reason kept as the cause', async () => {
    const job = await ream.createJob({});
    const controller = new AbortController();
    const waiting = ream.wait(job.id, { signal: controller.signal });
    controller.abort();
    const aborted = await rejectsWithCode(waiting, 'cancelled');
    assert.equal((aborted.cause as Error).name, 'AbortError');
    await rejectsWithCode(ream.wait(job.id, { signal: AbortSignal.timeout(10) }), 'timeout');
  });
});

test('close ends a pending wait with unavailable, and every later call is refused with unavailable', async () => {
  const ream = await createReam({ dataDir: join(dir, 'closing'), threads: 1 });
  const job = await ream.createJob({});
  // A job given no file yet does not end: the wait is still pending at close.
  const waiting = ream.wait(job.id);
  await ream.close();
  await rejectsWithCode(waiting, 'unavailable', /closed before the job ended/);
  await rejectsWithCode(Promise.resolve().then(() => ream.getJob(job.id)), 'unavailable', /ream\.getJob: this ream is closed/);
  await rejectsWithCode(Promise.resolve().then(() => ream.tenants.tenant('acme')), 'unavailable', /ream\.tenants\.tenant: this ream is closed/);
  await rejectsWithCode(Promise.resolve().then(() => ream.uploads.get('u1')), 'unavailable', /ream\.uploads\.get: this ream is closed/);
  assert.throws(() => ream.holdOpen(job.id), (error: unknown) => error instanceof ReamError && error.code === 'unavailable');
  await ream.close(); // a second close is fine
});

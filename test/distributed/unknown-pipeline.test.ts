// A worker started without a pipeline the deployment's server has (a forgotten --pipelines, an
// older version) must not fail that pipeline's work for good: its attempt is retried, and the
// job succeeds once a worker that has the pipeline runs it.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { builtinPipelines } from '../../src/pipeline/builtin.ts';
import type { PipelineFactory } from '../../src/pipeline/types.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { deleteRedisPrefix, freshDatabase } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { startS3Server } from '../support/s3-server.ts';
import { postgresUnavailable, redisUnavailable, TEST_REDIS_URL, uniqueName } from '../support/services.ts';

const missing = (await postgresUnavailable()) ?? (await redisUnavailable());

const custom: PipelineFactory = (options) => ({ ...builtinPipelines.extract!(options), name: 'custom' });
const TERMINAL = ['succeeded', 'partially_succeeded', 'failed', 'cancelled'];

void test('a worker without the job\'s pipeline gives its task back to be retried; a worker that has it finishes the job', { timeout: 300_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const [s3, database] = [await startS3Server(), await freshDatabase({ migrated: true })];
  const prefix = uniqueName('ream_unknown_pipeline');
  const dir = await mkdtemp(join(tmpdir(), 'ream-unknown-pipeline-'));
  const distributed = { redisUrl: TEST_REDIS_URL, databaseUrl: database.url, prefix, s3: { bucket: s3.bucket, endpoint: s3.endpoint, credentials: s3.credentials, forcePathStyle: true } };
  const open = (name: string, options: { work: boolean; custom: boolean }): Promise<Ream> =>
    createReam({ dataDir: join(dir, name), threads: 1, leaseMs: 5_000, work: options.work, ...(options.custom ? { pipelines: { custom } } : {}), distributed });
  const opened: Ream[] = [];
  try {
    const server = await open('server', { work: false, custom: true });
    opened.push(server);
    const stale = await open('stale', { work: true, custom: false });
    opened.push(stale);
    const path = join(dir, 'note.txt');
    await writeFile(path, 'a page for a pipeline only the server knows');
    let hear: (warning: Error) => void = () => undefined;
    const told = new Promise<void>((resolve) => {
      hear = (warning) => {
        if (/no pipeline "custom"/.test(warning.message)) resolve();
      };
      process.on('warning', hear);
    });
    const job = await server.submit({ files: [path], pipeline: 'custom' });

    // The stale worker met the task and said so; without the fix it failed the document for good.
    await Promise.race([told, server.wait(job.id, { signal: AbortSignal.timeout(120_000) })]);
    process.off('warning', hear);
    const meanwhile = await server.getJob(job.id);
    assert.ok(meanwhile && !TERMINAL.includes(meanwhile.status), `the job goes on (${meanwhile?.status ?? 'gone'})`);

    await stale.close();
    opened.splice(opened.indexOf(stale), 1);
    opened.push(await open('worker', { work: true, custom: true }));
    const done = await server.wait(job.id, { signal: AbortSignal.timeout(120_000) });
    assert.equal(done.status, 'succeeded');
    const results = [];
    for await (const result of server.results(job.id)) results.push(result);
    assert.equal(results.length, 1);
    assert.match(JSON.stringify(results[0]?.pages), /a page for a pipeline only the server knows/);
  } finally {
    for (const ream of opened) await ream.close();
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
    await database.drop();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
});

// A retention sweep whose job deletions the database refuses (a statement timeout, a trigger,
// a failing disk) ends, says which jobs stayed and why, and removes them at a later sweep.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import pg from 'pg';
import { createReam } from '../../src/runtime/create-ream.ts';
import { deleteRedisPrefix, freshDatabase } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { startS3Server } from '../support/s3-server.ts';
import { postgresUnavailable, redisUnavailable, TEST_REDIS_URL, uniqueName } from '../support/services.ts';

const DAY = 24 * 3600_000;

void test('a sweep that can delete none of a full page of old jobs ends, warns of each, and a later sweep removes them', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-retention-stuck-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, retention: { jobsDays: 1 } });
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning.message);
  process.on('warning', onWarning);
  try {
    const file = join(dir, 'a.txt');
    await writeFile(file, 'kept or not');
    const jobs = 101; // more than one page of the sweep (100)
    for (let i = 0; i < jobs; i++) await ream.submit({ tenantId: 't', files: [file] });
    for (const job of (await ream.listJobs({ tenantId: 't', limit: 200 })).items) assert.equal((await ream.wait(job.id)).status, 'succeeded');

    const database = new DatabaseSync(join(dir, 'data', 'ream.db'));
    database.exec(`create trigger refuse_job_delete before delete on jobs begin select raise(abort, 'deletions refused'); end`);
    const swept = await Promise.race([
      ream.sweepRetention(Date.now() + 2 * DAY),
      new Promise<'stuck'>((resolve) => setTimeout(resolve, 60_000, 'stuck').unref()),
    ]);
    if (swept === 'stuck') assert.fail('the sweep ends');
    assert.equal(swept.jobs, 0);
    // Each job is marked as under deletion first, so readers no longer see it, while its rows
    // stay for the next sweep (or recovery) to finish.
    assert.equal((await ream.listJobs({ tenantId: 't', limit: 200 })).items.length, 0, 'no job is listed half deleted');
    assert.equal(Number(database.prepare('select count(*) as n from jobs where deleting_at is not null').get()?.n), jobs, 'every job is still stored, marked');
    await new Promise((resolve) => setImmediate(resolve));
    const said = warnings.filter((message) => message.startsWith('ream retention: job '));
    assert.ok(said.length >= 100, `each job not removed is warned of: ${said.length}`);
    assert.match(said[0] ?? '', /^ream retention: job \S+ of tenant t not removed \(internal: deletions refused\); the next sweep tries again$/);

    database.exec('drop trigger refuse_job_delete');
    database.close();
    assert.equal((await ream.sweepRetention(Date.now() + 2 * DAY)).jobs, jobs, 'the next sweep removes them');
  } finally {
    process.off('warning', onWarning);
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
});

void test('jobs a sweep cannot delete, a full page of them and more, do not keep it from the jobs that ended after them', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-retention-stuck-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, retention: { jobsDays: 1 } });
  const onWarning = (): void => undefined;
  process.on('warning', onWarning);
  try {
    const file = join(dir, 'a.txt');
    await writeFile(file, 'kept or not');
    const jobs = 130;
    for (let i = 0; i < jobs; i++) await ream.submit({ tenantId: 't', files: [file] });
    for (const job of (await ream.listJobs({ tenantId: 't', limit: 200 })).items) assert.equal((await ream.wait(job.id)).status, 'succeeded');

    // The 110 jobs that ended first cannot be deleted (each past the statement timeout, say).
    const database = new DatabaseSync(join(dir, 'data', 'ream.db'));
    const refused = database.prepare('select id from jobs order by finished_at, id limit 110').all().map((row) => String(row.id));
    database.exec(`create table refused (id text primary key)`);
    for (const id of refused) database.prepare('insert into refused values (?)').run(id);
    database.exec(`create trigger refuse_job_delete before delete on jobs when old.id in (select id from refused) begin select raise(abort, 'deletions refused'); end`);
    const swept = await ream.sweepRetention(Date.now() + 2 * DAY);
    assert.equal(swept.jobs, jobs - refused.length, 'every job that could go went');
    const left = database.prepare('select id from jobs order by id').all().map((row) => String(row.id));
    assert.deepEqual(left, [...refused].sort(), 'the jobs refused are the ones still stored');
    assert.equal((await ream.listJobs({ tenantId: 't', limit: 200 })).items.length, 0, 'and they are not listed half deleted');
    database.close();
  } finally {
    process.off('warning', onWarning);
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
});

const servicesMissing = (await postgresUnavailable()) ?? (await redisUnavailable());

void test('distributed: a process closing during a sweep whose deletions each fail slowly waits for the job being removed, not for every job left', { timeout: 240_000 }, async (t) => {
  if (!requireOrSkip(t, servicesMissing === undefined, servicesMissing ?? '')) return;
  const dir = await mkdtemp(join(tmpdir(), 'ream-retention-stuck-'));
  const [s3, database] = [await startS3Server(), await freshDatabase({ migrated: true })];
  const prefix = uniqueName('ream_retention');
  const ream = await createReam({
    dataDir: join(dir, 'data'), threads: 1, retention: { jobsDays: 1 },
    distributed: { redisUrl: TEST_REDIS_URL, databaseUrl: database.url, prefix, s3: { bucket: s3.bucket, endpoint: s3.endpoint, credentials: s3.credentials, forcePathStyle: true } },
  });
  const onWarning = (): void => undefined;
  process.on('warning', onWarning);
  let closed = false;
  try {
    const file = join(dir, 'a.txt');
    await writeFile(file, 'kept or not');
    const jobs = 20;
    for (let i = 0; i < jobs; i++) await ream.submit({ tenantId: 't', files: [file] });
    for (const job of (await ream.listJobs({ tenantId: 't', limit: 100 })).items) assert.equal((await ream.wait(job.id)).status, 'succeeded');

    // Each deletion waits half a second, then is refused (as one past the statement timeout).
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query(`create function refuse_job_delete() returns trigger language plpgsql as $$ begin perform pg_sleep(0.5); raise exception 'deletions refused'; end $$`);
    await client.query('create trigger refuse_job_delete before delete on jobs for each row execute function refuse_job_delete()');
    await client.end();
    const sweep = ream.sweepRetention(Date.now() + 2 * DAY);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const closing = Date.now();
    await ream.close();
    closed = true;
    const closeMs = Date.now() - closing;
    assert.ok((await sweep).jobs === 0);
    assert.ok(closeMs < 4_000, `closed in ${closeMs} ms, where the sweep's ${jobs} deletions take ${jobs / 2} s`);
  } finally {
    process.off('warning', onWarning);
    if (!closed) await ream.close();
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
    await database.drop();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
});

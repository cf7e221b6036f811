// A job of any size can be deleted: its rows go a batch per statement, so PostgreSQL's statement
// timeout never cancels the deletion, and one cut short (here: the job row's deletion refused) is
// finished by deleting again. Its pages count once in its tenant's usage all along.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { NewEvent } from '../../src/events/types.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { engineOf } from '../../src/runtime/internals.ts';
import { batchSize } from '../../src/store/sql-job-deletion.ts';
import { deleteRedisPrefix, freshDatabase } from '../support/cluster.ts';
import { makePdf } from '../support/make-pdf.ts';
import { MODES, modeAvailable, type Mode } from '../support/modes.ts';
import { startS3Server } from '../support/s3-server.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/services.ts';

/** Rows added to the job: far more than one statement deletes within the timeout. */
const ROWS = 150_000;
/** Documents added to the job, 2 pages each: several batches of job documents. */
const DOCUMENTS = 2_500;

/** Raw SQL on the ream's database, beside the ream (another connection). */
interface Raw {
  run(statement: string): Promise<void>;
  count(table: string, jobId: string): Promise<number>;
  close(): Promise<void>;
}

function rawSqlite(path: string): Promise<Raw> {
  const db = new Database(path);
  db.pragma('busy_timeout = 10000');
  return Promise.resolve({
    run: (statement) => Promise.resolve(void db.prepare(statement).run()),
    count: (table, jobId) => Promise.resolve((db.prepare(`select count(*) as n from ${table} where job_id = ?`).get(jobId) as { n: number }).n),
    close: () => Promise.resolve(void db.close()),
  });
}

async function rawPostgres(url: string): Promise<Raw> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    run: async (statement) => void (await client.query(statement)),
    count: async (table, jobId) => Number((await client.query<{ n: string }>(`select count(*) as n from ${table} where job_id = $1`, [jobId])).rows[0]?.n),
    close: () => client.end(),
  };
}

/** A ream of the mode whose PostgreSQL statements may take 200 ms at most, and raw SQL on its database. */
async function withReam(mode: Mode, use: (ream: Ream, raw: Raw) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), `ream-large-deletion-${mode}-`));
  const prefix = uniqueName('ream_bigdel');
  const s3 = mode === 'distributed' ? await startS3Server() : undefined;
  const database = mode === 'distributed' ? await freshDatabase({ migrated: true }) : undefined;
  try {
    const ream = await createReam({
      dataDir: join(dir, 'data'), threads: 1,
      ...(s3 && database ? {
        distributed: {
          redisUrl: TEST_REDIS_URL, databaseUrl: database.url, prefix, queryTimeoutMs: 200,
          s3: { bucket: s3.bucket, endpoint: s3.endpoint, credentials: s3.credentials, forcePathStyle: true },
        },
      } : {}),
    });
    const raw = database ? await rawPostgres(database.url) : await rawSqlite(join(dir, 'data', 'ream.db'));
    try {
      await use(ream, raw);
    } finally {
      await raw.close();
      await ream.close();
    }
  } finally {
    if (database) await deleteRedisPrefix(TEST_REDIS_URL, prefix);
    await database?.drop();
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Fills the job with events, chunk results and documents as a very large job has them. */
async function inflate(raw: Raw, mode: Mode, jobId: string): Promise<void> {
  // Literals (the job id is ream's own), so that one text serves both drivers' placeholders.
  assert.match(jobId, /^[\w-]+$/);
  const p1 = `'${jobId}'`;
  const series = (count: number): string => mode === 'distributed' ? `generate_series(1, ${count}) g(n)` : `(with recursive s(n) as (select 1 union all select n + 1 from s where n < ${count}) select n from s) g`;
  const hex = mode === 'distributed' ? `lpad(to_hex(g.n), 64, '0')` : `printf('%064x', g.n)`;
  await raw.run(`insert into events (job_id, seq, tenant_id, type, at, data) select j.id, 1000000 + g.n, j.tenant_id, 'chunk.done', 0, '{"message":"${'x'.repeat(300)}"}' from jobs j, ${series(ROWS)} where j.id = ${p1}`);
  await raw.run(`insert into chunk_results (job_id, document_id, idx, from_page, to_page, status, output, body, error, duration_ms) select d.job_id, d.document_id, 1000000 + g.n, 1, 1, 'succeeded', '{}', '${'y'.repeat(300)}', null, 1 from job_documents d, ${series(ROWS)} where d.job_id = ${p1}`);
  await raw.run(`insert into documents (id, tenant_id, sha256, name, size, media_type, created_at, deleted_at) select 'bigdoc-' || g.n, j.tenant_id, ${hex}, 'd.pdf', 10, 'application/pdf', 1, case when g.n = 1 then 1 else null end from jobs j, ${series(DOCUMENTS)} where j.id = ${p1}`);
  await raw.run(`insert into job_documents (job_id, document_id, ordinal, source, status, pages_total) select ${p1}, 'bigdoc-' || g.n, 1000 + g.n, 'd.pdf', 'succeeded', 2 from ${series(DOCUMENTS)}`);
}

const HOLD = {
  distributed: [
    `create function hold_jobs() returns trigger language plpgsql as $$ begin raise exception 'job rows are held'; end $$`,
    'create trigger hold_jobs before delete on jobs for each row execute function hold_jobs()',
  ],
  embedded: [`create trigger hold_jobs before delete on jobs begin select raise(abort, 'job rows are held'); end`],
};
const RELEASE = { distributed: ['drop trigger hold_jobs on jobs', 'drop function hold_jobs()'], embedded: ['drop trigger hold_jobs'] };

/**
 * The job row's deletion outlasts the statement timeout twice, as its cascades can on a loaded
 * database (a sequence, which a cancelled statement does not roll back, counts the tries).
 */
const SLOW_TWICE = [
  'create sequence slow_job_deletes',
  `create function slow_jobs() returns trigger language plpgsql as $$ begin if nextval('slow_job_deletes') <= 2 then perform pg_sleep(1); end if; return old; end $$`,
  'create trigger slow_jobs before delete on jobs for each row execute function slow_jobs()',
];

for (const mode of MODES) {
  void test(`${mode}: a very large job is deleted, a deletion cut short finishes when run again, and its pages count once throughout`, { timeout: 300_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withReam(mode, async (ream, raw) => {
      const dir = await mkdtemp(join(tmpdir(), 'ream-large-deletion-pdf-'));
      const pdf = join(dir, 'three.pdf');
      await writeFile(pdf, await makePdf({ pages: ['one', 'two', 'three'] }));
      const { id: jobId, tenantId } = await ream.submit({ pipeline: 'extract', files: [pdf] });
      assert.equal((await ream.wait(jobId)).status, 'succeeded');
      await rm(dir, { recursive: true, force: true });
      await inflate(raw, mode, jobId);
      const store = engineOf(ream).ports.store;
      const pages = async (): Promise<number> => (await store.tenantUsage(tenantId, 0)).pagesSince;
      assert.equal(await pages(), 3 + 2 * DOCUMENTS);

      // The job row's deletion is refused (as a statement timeout or a crash would cut it short).
      for (const statement of HOLD[mode]) await raw.run(statement);
      await assert.rejects(ream.deleteJob(jobId));
      assert.equal(await pages(), 3 + 2 * DOCUMENTS, 'pages counted once after a deletion that failed');
      assert.equal(await ream.getJob(jobId), undefined, 'a job under deletion is gone to readers');
      for (const statement of RELEASE[mode]) await raw.run(statement);
      if (mode === 'distributed') for (const statement of SLOW_TWICE) await raw.run(statement);

      const started = performance.now();
      await ream.deleteJob(jobId);
      t.diagnostic(`deleted in ${Math.round(performance.now() - started)} ms`);
      assert.equal(await ream.getJob(jobId), undefined);
      for (const table of ['events', 'chunk_results', 'job_documents', 'document_results']) assert.equal(await raw.count(table, jobId), 0, table);
      assert.equal(await pages(), 3 + 2 * DOCUMENTS, 'the deleted job\'s pages still count, once');
      assert.equal(await store.getDocument('bigdoc-1', { deleted: true }), undefined, 'a deleted document only the job named went with it');
      assert.ok(await store.getDocument('bigdoc-2'), 'the others stay');
    });
  });
}

for (const mode of MODES) {
  void test(`${mode}: a job is gone to every reader from its deletion's first batch on, and recovery finishes a deletion cut short`, { timeout: 120_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withReam(mode, async (ream, raw) => {
      const dir = await mkdtemp(join(tmpdir(), 'ream-deleting-pdf-'));
      const files = [join(dir, 'a.pdf'), join(dir, 'b.pdf')];
      await writeFile(files[0] ?? '', await makePdf({ pages: ['one'] }));
      await writeFile(files[1] ?? '', await makePdf({ pages: ['two'] }));
      const { id: jobId, tenantId } = await ream.submit({ pipeline: 'extract', key: 'nightly', files });
      assert.equal((await ream.wait(jobId)).status, 'succeeded');
      await rm(dir, { recursive: true, force: true });
      const succeeded = (await ream.jobStatusCounts()).succeeded;

      // Its documents, results and events go, the job row stays: as between two batches.
      for (const statement of HOLD[mode]) await raw.run(statement);
      await assert.rejects(ream.deleteJob(jobId), /held/);
      assert.equal(await raw.count('job_documents', jobId), 0, 'the deletion got past the job\'s documents');
      assert.equal(await ream.getJob(jobId), undefined, 'getJob');
      assert.equal(await ream.jobByKey(tenantId, 'nightly'), undefined, 'jobByKey');
      assert.ok(!(await ream.listJobs({ tenantId })).items.some((job) => job.id === jobId), 'listJobs');
      assert.equal((await ream.jobStatusCounts()).succeeded, succeeded - 1, 'jobStatusCounts');
      await assert.rejects(ream.retry(jobId), { code: 'not_found' });
      const again = await ream.createJob({ pipeline: 'extract', key: 'nightly', tenantId });
      assert.notEqual(again.id, jobId, 'its idempotency key makes a new job');
      // Nor counted among its tenant's unfinished jobs (GET /v1/tenants, the concurrentJobs quota), were it still running.
      const { store: ported } = engineOf(ream).ports;
      const unfinished = (await ported.tenantUsage(tenantId, 0)).unfinishedJobs;
      await raw.run(`update jobs set status = 'running' where id = '${jobId}'`);
      assert.equal((await ported.tenantUsage(tenantId, 0)).unfinishedJobs, unfinished, 'tenantUsage: unfinishedJobs');
      await raw.run(`update jobs set status = 'succeeded' where id = '${jobId}'`);
      // A task of the job still running stores no event: it would outlive the events' batches.
      await assert.rejects(engineOf(ream).ports.store.appendEvent({ type: 'stage.completed', jobId, tenantId, at: Date.now() } as NewEvent), { code: 'not_found' });
      assert.equal(await raw.count('events', jobId), 0, 'no event of a job under deletion is stored');

      // A merge of the job that ends now records its report, finds the job gone and forgets what
      // it stored: the blob goes, though the record stays until the job row does.
      const { blobs, store } = engineOf(ream).ports;
      const late = await blobs.put(Readable.from([Buffer.from('<p>a report rendered late</p>')]));
      await store.putJobArtifacts(jobId, [late]);
      await engineOf(ream).forgetDeletedJob(tenantId, jobId, [late.sha256]);
      assert.equal(await blobs.stat(late.sha256), undefined, 'a late report of a job under deletion leaves no blob');

      for (const statement of RELEASE[mode]) await raw.run(statement);
      await engineOf(ream).recover(() => Promise.resolve());
      assert.ok(await engineOf(ream).ports.store.getJob(jobId, { deleting: true }), 'a deletion begun just now may still be under way elsewhere');
      // Begun long ago: it was cut short, and recovery finishes it.
      await raw.run(`update jobs set deleting_at = 1 where id = '${jobId}'`);
      await engineOf(ream).recover(() => Promise.resolve());
      assert.equal(await engineOf(ream).ports.store.getJob(jobId, { deleting: true }), undefined, 'recovery finished it');
      assert.equal(await raw.count('events', jobId), 0);
      await assert.rejects(ream.deleteJob(jobId), { code: 'not_found' });
    });
  });
}

const HOLD_EVENTS = {
  distributed: [
    `create function hold_events() returns trigger language plpgsql as $$ begin raise exception 'events are held'; end $$`,
    'create trigger hold_events before delete on events for each row execute function hold_events()',
  ],
  embedded: [`create trigger hold_events before delete on events begin select raise(abort, 'events are held'); end`],
};

for (const mode of MODES) {
  void test(`${mode}: the failures of a job whose deletion was cut short among its events are in no error group`, { timeout: 120_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withReam(mode, async (ream, raw) => {
      const dir = await mkdtemp(join(tmpdir(), 'ream-deleting-failures-'));
      const file = join(dir, 'a.pdf');
      await writeFile(file, await makePdf({ pages: ['one'] }));
      const { id: jobId, tenantId } = await ream.submit({ pipeline: 'extract', files: [file] });
      await ream.wait(jobId);
      await rm(dir, { recursive: true, force: true });
      assert.match(jobId, /^[\w-]+$/);
      await raw.run(`insert into events (job_id, seq, tenant_id, type, at, data) values ('${jobId}', 1000000, '${tenantId}', 'document.failed', ${Date.now()}, '{"error":{"code":"pdf_broken","message":"broken"}}')`);
      assert.equal((await ream.errorGroups({ tenantId, since: 0 })).items[0]?.sample.jobId, jobId, 'listed while the job is there');
      for (const statement of HOLD_EVENTS[mode]) await raw.run(statement);
      await assert.rejects(ream.deleteJob(jobId), /held/);
      assert.deepEqual((await ream.errorGroups({ tenantId, since: 0 })).items, [], 'no group samples a job that is gone');
    });
  });
}

void test('a batch PostgreSQL cancels past its statement timeout is tried again smaller, and grows back after', async () => {
  const cancelled = Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
  const size = batchSize(1000);
  const tried: number[] = [];
  // A loaded database: more than 100 rows in one statement pass the timeout.
  const statement = (): Promise<number> => {
    tried.push(size.now());
    return size.now() > 100 ? Promise.reject(cancelled) : Promise.resolve(size.now());
  };
  assert.equal(await size.run(statement), undefined, 'cancelled: to be tried again');
  assert.equal(await size.run(statement), undefined);
  assert.equal(await size.run(statement), 62);
  assert.deepEqual(tried, [1000, 250, 62]);
  assert.equal(size.now(), 124, 'larger again after a statement that went through');

  const other = Object.assign(new Error('job rows are held'), { code: 'P0001' });
  await assert.rejects(size.run(() => Promise.reject(other)), /held/, 'other errors are not retried');

  const always = batchSize(4);
  const never = (): Promise<number> => Promise.reject(cancelled);
  assert.equal(await always.run(never), undefined, '4 rows cancelled: 1 next');
  assert.equal(always.now(), 1);
  assert.equal(await always.run(never), undefined, 'one row cancelled once');
  assert.equal(await always.run(never), undefined, 'twice');
  await assert.rejects(always.run(never), { code: '57014' }, 'one row at a time cancelled three times over: the error');
});

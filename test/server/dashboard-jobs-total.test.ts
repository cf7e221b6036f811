// The job list's total, in Chromium: counted once per search (a count reads up to 10,000 jobs),
// not again on every 5 s refresh, moved by the jobs a refresh sees come, and past the server's
// cap shown as `10,000+`; counted again where moving it by the head would drift (queued or running
// jobs, deletions further down).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import type { Request } from 'playwright-core';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { DEFAULT_TENANT } from '../../src/store/port.ts';
import { useConsole } from '../support/console-browser.ts';

const WAIT_MS = 30_000;
/** More jobs of one pipeline than the server counts (10,000). */
const MANY = 10_050;
const FEW = 150;

// No work: the jobs stay queued, so only what the test makes changes the list.
const con = useConsole('dashboard-jobs-total', { ream: { work: false } });

/** Adds `n` queued jobs of `pipeline` straight into the data dir's database (thousands in well under a second), newest `newest` ms. */
async function insertJobs(pipeline: string, n: number, newest: number): Promise<void> {
  const database = openSqliteDatabase(join(con.dir, 'data', 'ream.db'));
  try {
    await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${n})
      insert into jobs (id, tenant_id, pipeline, options, priority, status, created_at)
      select 'job_' || lower(hex(randomblob(16))), ${DEFAULT_TENANT}, ${pipeline}, '{}', 0, 'queued', ${newest} - i from n`.execute(database.kysely);
  } finally {
    await database.close();
  }
}

con.before(async () => {
  await insertJobs('bulk-pdf', MANY, Date.now() - 60_000);
  await insertJobs('few-ocr', FEW, Date.now() - 120_000);
});

const isListRead = (request: Request): boolean => new URL(request.url()).pathname === '/v1/jobs' && request.method() === 'GET';
const asksTotal = (request: Request): boolean => new URL(request.url()).searchParams.get('total') === 'true';

void test('console: a search matching more than 10,000 jobs says 10,000+', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  await page.goto(`${con.server.url}/#/jobs?q=BULK`);
  await page.locator('p.count', { hasText: /^100 of 10,000\+ jobs$/ }).waitFor({ timeout: WAIT_MS });
});

void test('console: the total is counted once per search, not on every refresh, and moves with the jobs that come', { timeout: 120_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const reads: Request[] = [];
  page.on('request', (request) => {
    if (isListRead(request)) reads.push(request);
  });
  await page.goto(`${con.server.url}/#/jobs?q=few`);
  await page.locator('p.count', { hasText: `100 of ${FEW} jobs` }).waitFor({ timeout: WAIT_MS });
  // Two refreshes (5 s apart): each reads the head of the list again.
  const headReads = (): number => reads.filter((request) => !new URL(request.url()).searchParams.has('cursor')).length;
  const before = headReads();
  for (let refreshes = 0; refreshes < 2; refreshes++) await page.waitForRequest((request) => isListRead(request), { timeout: WAIT_MS });
  await page.waitForTimeout(300);
  assert.ok(headReads() >= before + 2, 'the list refreshed');
  assert.equal(reads.filter(asksTotal).length, 1, 'counted once, when the list was first read');

  // A job that comes between two refreshes goes on top and counts in, without a count.
  await insertJobs('few-ocr', 1, Date.now());
  await page.locator('p.count', { hasText: `101 of ${FEW + 1} jobs` }).waitFor({ timeout: WAIT_MS });
  assert.equal(reads.filter(asksTotal).length, 1);

  // Another search counts again, once.
  await page.getByRole('searchbox', { name: 'Search' }).fill('bulk');
  await page.locator('p.count', { hasText: '100 of 10,000+ jobs' }).waitFor({ timeout: WAIT_MS });
  assert.equal(reads.filter(asksTotal).length, 2);
});

/** Runs `statement` on the data dir's database (as the engine or a retention sweep would change it). */
async function onDatabase(change: (database: ReturnType<typeof openSqliteDatabase>) => Promise<unknown>): Promise<void> {
  const database = openSqliteDatabase(join(con.dir, 'data', 'ream.db'));
  try {
    await change(database);
  } finally {
    await database.close();
  }
}

void test('console: a list of queued jobs is counted on each refresh, as jobs leave it below its head', { timeout: 120_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  await insertJobs('leaving-ocr', FEW, Date.now() - 180_000);
  await page.goto(`${con.server.url}/#/jobs?status=queued&q=leaving`);
  await page.locator('p.count', { hasText: `100 of ${FEW} jobs` }).waitFor({ timeout: WAIT_MS });
  // The 30 oldest start running: none of them is in the head of the list, which shows the newest 100.
  await onDatabase((database) =>
    sql`update jobs set status = 'running' where id in (select id from jobs where pipeline = 'leaving-ocr' order by created_at limit 30)`.execute(database.kysely),
  );
  await page.locator('p.count', { hasText: `100 of ${FEW - 30} jobs` }).waitFor({ timeout: WAIT_MS });
});

void test('console: jobs deleted below the head of the list leave its total within 30 s', { timeout: 120_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  await insertJobs('swept-ocr', FEW, Date.now() - 240_000);
  await page.goto(`${con.server.url}/#/jobs?q=swept`);
  await page.locator('p.count', { hasText: `100 of ${FEW} jobs` }).waitFor({ timeout: WAIT_MS });
  // A retention sweep deletes the 20 oldest, further down than the head each refresh reads.
  await onDatabase((database) => sql`delete from jobs where id in (select id from jobs where pipeline = 'swept-ocr' order by created_at limit 20)`.execute(database.kysely));
  await page.locator('p.count', { hasText: `100 of ${FEW - 20} jobs` }).waitFor({ timeout: 45_000 });
});

// The job list's total, in Chromium: past the server's cap shown as `10,000+`.
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { DEFAULT_TENANT } from '../../src/store/port.ts';
import { useConsole } from '../support/console-browser.ts';

const WAIT_MS = 30_000;
/** More jobs of one pipeline than the server counts (10,000). */
const MANY = 10_050;

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
});

void test('console: a search matching more than 10,000 jobs says 10,000+', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  await page.goto(`${con.server.url}/#/jobs?q=BULK`);
  await page.locator('p.count', { hasText: /^100 of 10,000\+ jobs$/ }).waitFor({ timeout: WAIT_MS });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompiledQuery } from 'kysely';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { chunkCountsQuery } from '../../src/store/sql-job-counts.ts';
import { jobsDeletingBeforeQuery } from '../../src/store/sql-job-store.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';

// Every event sums the job's chunk results; the rows hold each chunk's text, so reading them
// made each event cost a page or more per chunk of the job. The sum must stay inside the index.
void test('job counts: the chunk sums read only the covering index, never the rows', async () => {
  const database = openSqliteDatabase(':memory:');
  try {
    await SqliteStore.open(database);
    const compiled = chunkCountsQuery(database.kysely, 'j1').compile();
    const plan = await database.kysely.executeQuery<{ detail: string }>(CompiledQuery.raw(`EXPLAIN QUERY PLAN ${compiled.sql}`, [...compiled.parameters]));
    const details = plan.rows.map((row) => row.detail).join(' | ');
    assert.match(details, /USING COVERING INDEX chunk_results_job_counts \(job_id=\?\)/);
  } finally {
    await database.close();
  }
});

// Recovery looks for deletions cut short in every process every few minutes: over a table of
// millions of jobs, a read of them all each time.
void test('jobs under deletion are found on their own index, not by reading every job', async () => {
  const database = openSqliteDatabase(':memory:');
  try {
    await SqliteStore.open(database);
    const compiled = jobsDeletingBeforeQuery(database.kysely, Date.now()).compile();
    const plan = await database.kysely.executeQuery<{ detail: string }>(CompiledQuery.raw(`EXPLAIN QUERY PLAN ${compiled.sql}`, [...compiled.parameters]));
    const details = plan.rows.map((row) => row.detail).join(' | ');
    assert.match(details, /USING INDEX jobs_deleting \(deleting_at<\?\)/);
  } finally {
    await database.close();
  }
});

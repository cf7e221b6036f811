// Distributed: two `ream worker`s rendering one tenant's reports at once never store past its
// storage quota, and its stored bytes, read from one PostgreSQL row, stay the exact sum of its records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { ReamClient } from '../../src/client/index.ts';
import { startCluster } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';

const missing = (await redisUnavailable()) ?? (await postgresUnavailable());

/** The tenant's stored bytes summed from its records: live documents, and report files each once. */
async function recount(databaseUrl: string, tenantId: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ bytes: string }>(`select
      (select coalesce(sum(size), 0) from documents where tenant_id = $1 and deleted_at is null)
      + (select coalesce(sum(size), 0) from (select max(a.size) as size from job_artifacts a join jobs j on j.id = a.job_id where j.tenant_id = $1 group by a.sha256) files) as bytes`, [tenantId]);
    return Number(rows[0]?.bytes);
  } finally {
    await client.end();
  }
}

void test('distributed: two workers rendering reports at once never store past the storage quota, counted exactly', { timeout: 300_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const cluster = await startCluster({ workers: 2, workerArgs: ['--concurrency', '2', '--threads', '1'] });
  try {
    const client = new ReamClient({ baseUrl: cluster.server.url });
    const { tenantId } = await client.credits();
    const table = `no\n${Array.from({ length: 40 }, (_, i) => `R-${i + 1}`).join('\n')}\n`;
    // Room for the table and about six of the ~10 KB reports; eight batches of five over four slots of two processes.
    const quota = Buffer.byteLength(table) + 63_000;
    await client.setQuotas(tenantId, { storageBytes: quota });
    const job = await client.submit({ pipeline: 'rows', options: { template: `<p>{{ no }}</p>${'x'.repeat(10_000)}`, name: '{{ no }}', chunkPages: 5 }, files: [{ name: 'rows.csv', data: new Blob([table], { type: 'text/csv' }) }] });
    await client.wait(job.id);
    const used = (await client.tenant(tenantId)).usage.storageBytes;
    assert.ok(used <= quota, `${used} bytes stored of a quota of ${quota}`);
    assert.equal(used, await recount(cluster.databaseUrl, tenantId), 'the counter is the sum of the records');
    const stored = await client.artifacts(job.id);
    assert.ok(stored.length >= 5 && stored.length <= 6, `the reports that fit are kept: ${stored.length}`);
    const [output] = await client.results(job.id);
    const refused = output?.failedPages ?? [];
    assert.equal(refused.length + stored.length, 40, 'every row has its report or says why not');
    assert.ok(refused.every((failure) => failure.code === 'quota_exceeded'), JSON.stringify(refused[0]));
    assert.equal((await fetch(`${cluster.server.url}/v1/jobs/${job.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await client.tenant(tenantId)).usage.storageBytes, await recount(cluster.databaseUrl, tenantId));
  } finally {
    await cluster.stop();
  }
});

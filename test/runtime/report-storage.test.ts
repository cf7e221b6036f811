// A tenant's report files count toward its stored bytes (the storageBytes quota), in both modes:
// templates can write far more than the documents they read.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { MODES, modeAvailable, withModeReam } from '../support/modes.ts';

let dir: string;
let csv: string;
let note: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-report-storage-'));
  csv = join(dir, 'people.csv');
  await writeFile(csv, 'no,who\nN-1,Ann\nN-2,Bo\nN-3,Cy\n');
  note = join(dir, 'note.txt');
  await writeFile(note, 'more');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

for (const mode of MODES) {
  void test(`${mode}: report files count toward the tenant's stored bytes until their job is deleted`, { timeout: 120_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withModeReam(mode, {}, async ({ ream }) => {
      const tenantId = `reports-${mode}`;
      // 10,000 bytes of padding per report: far more than the 40-byte table they come from.
      const job = await ream.submit({ tenantId, pipeline: 'rows', options: { template: `<p>{{ no }} {{ who }}</p>${'x'.repeat(10_000)}`, name: '{{ no }}' }, files: [csv] });
      assert.equal((await ream.wait(job.id)).status, 'succeeded');
      const reports = (await ream.artifacts(job.id)).reduce((sum, artifact) => sum + artifact.size, 0);
      assert.ok(reports > 30_000, `three padded reports: ${reports} bytes`);
      const table = (await stat(csv)).size;
      assert.equal((await ream.tenants.tenant(tenantId)).usage.storageBytes, table + reports);

      // At the quota, nothing more is stored: the reports took the room.
      await ream.tenants.setQuotas(tenantId, { storageBytes: table + reports });
      await rejectsWithCode(ream.submit({ tenantId, pipeline: 'extract', files: [note] }), 'quota_exceeded');

      // Room for another table but not for its reports: the table is stored, no report rendered,
      // each batch failed at once with quota_exceeded; a retry once there is room renders them.
      const more = join(dir, `more-${mode}.csv`);
      await writeFile(more, 'no,who\nM-1,Di\n');
      await ream.tenants.setQuotas(tenantId, { storageBytes: table + reports + (await stat(more)).size });
      const refused = await ream.submit({ tenantId, pipeline: 'rows', options: { template: '<p>{{ no }}</p>', name: '{{ no }}' }, files: [more] });
      assert.equal((await ream.wait(refused.id)).status, 'failed');
      const [output] = await Array.fromAsync(ream.results(refused.id));
      assert.deepEqual(output?.failedPages.map((failure) => [failure.page, failure.code]), [[1, 'quota_exceeded']]);
      assert.match(output?.failedPages[0]?.message ?? '', /no report rendered: stored documents \(and unfinished uploads\) are at the storage quota/);
      assert.equal((await ream.artifacts(refused.id)).length, 0);
      await ream.tenants.setQuotas(tenantId, { storageBytes: 10 * (table + reports) });
      await ream.retry(refused.id);
      assert.equal((await ream.wait(refused.id)).status, 'succeeded');
      assert.deepEqual((await ream.artifacts(refused.id)).map((artifact) => artifact.name), ['M-1.html']);
      await ream.deleteJob(refused.id);
      await ream.tenants.setQuotas(tenantId, { storageBytes: table + reports + (await stat(more)).size });

      // The job deleted, its reports no longer count, and the room is back.
      await ream.deleteJob(job.id);
      assert.equal((await ream.tenants.tenant(tenantId)).usage.storageBytes, table + (await stat(more)).size);
      const next = await ream.submit({ tenantId, pipeline: 'extract', files: [note] });
      assert.equal((await ream.wait(next.id)).status, 'succeeded');
    });
  });
}

for (const mode of MODES) {
  void test(`${mode}: batches rendering at once never store reports past the storage quota`, { timeout: 120_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withModeReam(mode, { concurrency: 4 }, async ({ ream }) => {
      const tenantId = `reports-at-once-${mode}`;
      const rows = join(dir, `rows-${mode}.csv`);
      await writeFile(rows, `no\n${Array.from({ length: 40 }, (_, i) => `R-${i + 1}`).join('\n')}\n`);
      const table = (await stat(rows)).size;
      // Room for the table and about six of the ~10 KB reports; eight batches of five start at once.
      const quota = table + 63_000;
      await ream.tenants.setQuotas(tenantId, { storageBytes: quota });
      const job = await ream.submit({ tenantId, pipeline: 'rows', options: { template: `<p>{{ no }}</p>${'x'.repeat(10_000)}`, name: '{{ no }}', chunkPages: 5 }, files: [rows] });
      await ream.wait(job.id);
      const used = (await ream.tenants.tenant(tenantId)).usage.storageBytes;
      assert.ok(used <= quota, `${used} bytes stored of a quota of ${quota} (${(((used - quota) / quota) * 100).toFixed(1)}% over)`);
      const stored = await ream.artifacts(job.id);
      assert.ok(stored.length >= 5 && stored.length <= 6, `the reports that fit are kept: ${stored.length}`);
      const [output] = await Array.fromAsync(ream.results(job.id));
      const refused = output?.failedPages ?? [];
      assert.equal(refused.length + stored.length, 40, 'every row has its report or says why not');
      assert.ok(refused.every((failure) => failure.code === 'quota_exceeded'), JSON.stringify(refused[0]));
    });
  });
}

for (const mode of MODES) {
  void test(`${mode}: a report file the tenant's stored bytes count already needs no room again`, { timeout: 120_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withModeReam(mode, {}, async ({ ream }) => {
      const tenantId = `reports-same-${mode}`;
      const template = `<p>The same letter for everyone</p>${'x'.repeat(10_000)}`;
      const size = Buffer.byteLength(template);
      // Room for the table and one report: each row renders the same bytes, stored and counted once.
      await ream.tenants.setQuotas(tenantId, { storageBytes: (await stat(csv)).size + size });
      const job = await ream.submit({ tenantId, pipeline: 'rows', options: { template, name: '{{ no }}' }, files: [csv] });
      const [output] = await Array.fromAsync(ream.results((await ream.wait(job.id)).id));
      assert.deepEqual(output?.failedPages, [], 'no row refused for bytes that take no room');
      assert.deepEqual((await ream.artifacts(job.id)).map((artifact) => artifact.name).sort(), ['N-1.html', 'N-2.html', 'N-3.html']);
      assert.equal((await ream.tenants.tenant(tenantId)).usage.storageBytes, (await stat(csv)).size + size);
    });
  });
}

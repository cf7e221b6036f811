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

      // The job deleted, its reports no longer count, and the room is back.
      await ream.deleteJob(job.id);
      assert.equal((await ream.tenants.tenant(tenantId)).usage.storageBytes, table);
      const next = await ream.submit({ tenantId, pipeline: 'extract', files: [note] });
      assert.equal((await ream.wait(next.id)).status, 'succeeded');
    });
  });
}

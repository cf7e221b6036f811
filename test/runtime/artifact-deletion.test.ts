// Deleting a job removes its report files' blobs — unless another job's reports or a document
// have the same bytes — and retention's expiry does the same; deleting a document keeps a blob
// a job's report still has. Both modes (local folder, S3).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Ream } from '../../src/runtime/create-ream.ts';
import { engineOf } from '../../src/runtime/internals.ts';
import { MODES, modeAvailable, withModeReam } from '../support/modes.ts';

let dir: string;
let csv: string;
let twin: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-artifact-deletion-'));
  csv = join(dir, 'people.csv');
  await writeFile(csv, 'no,who\nN-1,Ann\nN-2,Bo\nN-3,Cy\n');
  // A document whose bytes are exactly one report's (N-3's): its blob is the document's too.
  twin = join(dir, 'twin.html');
  await writeFile(twin, '<p>N-3: Cy</p>');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function reportsJob(ream: Ream, template: string): Promise<{ id: string; blobs: string[] }> {
  const job = await ream.submit({ pipeline: 'rows', options: { template, name: '{{ no }}' }, files: [csv] });
  assert.equal((await ream.wait(job.id)).status, 'succeeded');
  const artifacts = await ream.artifacts(job.id);
  assert.equal(artifacts.length, 3);
  return { id: job.id, blobs: artifacts.map((artifact) => artifact.sha256) };
}

for (const mode of MODES) {
  void test(`${mode}: a deleted job's report blobs go, but not those another job or a document still has`, { timeout: 120_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withModeReam(mode, {}, async ({ ream }) => {
      const blobs = engineOf(ream).ports.blobs;
      const stored = async (shas: readonly string[]): Promise<boolean[]> => Promise.all(shas.map(async (sha) => (await blobs.stat(sha)) !== undefined));
      const first = await reportsJob(ream, '<p>{{ no }}: {{ who }}</p>');
      const same = await reportsJob(ream, '<p>{{ no }}: {{ who }}</p>');
      const other = await reportsJob(ream, '<b>{{ no }}</b>');
      assert.deepEqual(same.blobs, first.blobs, 'the same reports are the same blobs');
      const twinJob = await ream.submit({ pipeline: 'extract', files: [twin] });
      await ream.wait(twinJob.id);
      const [twinResult] = await Array.fromAsync(ream.results(twinJob.id));
      const twinDocumentId = twinResult?.documentId ?? '';
      await ream.deleteJob(twinJob.id); // the document stays: its blob is still its content

      await ream.deleteJob(first.id);
      assert.deepEqual(await stored(first.blobs), [true, true, true], 'the second job still has them');
      await ream.deleteJob(first.id).then(() => assert.fail('deleted twice'), (error: { code?: string }) => assert.equal(error.code, 'not_found'));
      assert.equal(await ream.getJob(first.id), undefined);

      // The document of N-3's bytes is deleted while a job's report still has them: they stay.
      const removed = await ream.deleteDocument(twinDocumentId);
      assert.equal(removed.blobDeleted, false, 'a job\'s report has the same bytes');

      await ream.deleteJob(same.id);
      assert.deepEqual(await stored(first.blobs), [false, false, false], 'no one has them any more');
      assert.deepEqual(await stored(other.blobs), [true, true, true], 'another job\'s reports are untouched');
      const kept = (await ream.artifacts(other.id)).find((artifact) => artifact.name === 'N-2.html');
      assert.ok(kept);
      const html = Buffer.concat(await Array.fromAsync(await ream.artifactBytes(kept))).toString();
      assert.equal(html, '<b>N-2</b>');

      // Retention's expiry deletes through the same path (the engine's deleteJob).
      await engineOf(ream).deleteJob(other.id);
      assert.deepEqual(await stored(other.blobs), [false, false, false]);
    });
  });
}

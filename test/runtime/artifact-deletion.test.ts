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
import type { Analyzer } from '../../src/analyzers/port.ts';
import { extractWith } from '../support/analyzers.ts';
import { makePdf } from '../support/make-pdf.ts';
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

for (const mode of MODES) {
  void test(`${mode}: a merge that ends after its job was deleted elsewhere leaves no search entry naming the job`, { timeout: 120_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    const pdf = join(dir, 'late-merge.pdf');
    await writeFile(pdf, await makePdf({ pages: ['quokka lagoon census'] }));
    // Another process deletes the job while this one merges, and its cancel has not come yet:
    // the row goes from under the merge, which then indexes and records what it read.
    let ream: Ream | undefined;
    const deleting: Analyzer = {
      name: 'deleting',
      config: null,
      analyze: () => Promise.resolve({}),
      async finish(_chunks, merged, context) {
        await engineOf(ream as Ream).ports.store.deleteJob(context.jobId ?? '');
        return { fields: merged };
      },
    };
    await withModeReam(mode, { pipelines: extractWith('late', deleting) }, async (opened) => {
      ream = opened.ream;
      const job = await opened.ream.submit({ pipeline: 'late', files: [pdf] });
      for (let tries = 0; tries < 200 && (await opened.ream.getJob(job.id)) !== undefined; tries++) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await opened.ream.getJob(job.id), undefined, 'deleted');
      await new Promise((resolve) => setTimeout(resolve, 300)); // the merge's last steps
      assert.deepEqual(await opened.ream.search('quokka', { filters: { jobId: job.id } }), [], 'no entry names the deleted job');
      assert.equal((await opened.ream.search('quokka')).length, 1, 'the document itself stays searchable');
    });
  });
}

for (const mode of MODES) {
  void test(`${mode}: a report stored while another job of the same report is deleted keeps its blob`, { timeout: 120_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withModeReam(mode, {}, async ({ ream }) => {
      const blobs = engineOf(ream).ports.blobs;
      const first = await reportsJob(ream, '<p>{{ no }}: {{ who }}</p>');
      // The next job's first report of the same bytes waits, written but not yet recorded as its
      // own, while the first job is deleted.
      const put = blobs.put.bind(blobs);
      let written: () => void = () => undefined;
      const isWritten = new Promise<void>((resolve) => {
        written = resolve;
      });
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let held = false;
      blobs.put = async (...args: Parameters<typeof put>) => {
        const stored = await put(...args);
        if (!held && first.blobs.includes(stored.sha256)) {
          held = true;
          written();
          await released;
        }
        return stored;
      };
      const same = await ream.submit({ pipeline: 'rows', options: { template: '<p>{{ no }}: {{ who }}</p>', name: '{{ no }}' }, files: [csv] });
      await isWritten;
      const deletion = ream.deleteJob(first.id);
      // The deletion is let go on ahead (as far as it can), then the report goes on.
      await Promise.race([deletion, new Promise((resolve) => setTimeout(resolve, 3_000))]);
      release();
      await deletion;
      assert.equal((await ream.wait(same.id)).status, 'succeeded');
      const artifacts = await ream.artifacts(same.id);
      const missing = [];
      for (const artifact of artifacts) if ((await blobs.stat(artifact.sha256)) === undefined) missing.push(artifact.name);
      assert.deepEqual(missing, [], 'every report of the job still has its blob');
    });
  });
}

// A job made by a ream that did not record its report files as its documents ended (before
// job_report_files): a document added or redone after the upgrade leaves the earlier files
// listed and downloadable by the names they had, and takes a name none of them holds.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { MODES, modeAvailable, withModeReam } from '../support/modes.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-report-upgrade-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

for (const mode of MODES) {
  void test(`${mode}: a document ending in a job of an older ream keeps that job's files and their names`, { timeout: 120_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    const table = async (name: string, rows: string[]): Promise<string> => {
      const path = join(dir, `${mode}-${name}`);
      await writeFile(path, `no\n${rows.join('\n')}\n`);
      return path;
    };
    await withModeReam(mode, {}, async ({ ream }) => {
      const job = await ream.submit({ pipeline: 'rows', options: { template: '<p>{{ no }}</p>', name: 'N-{{ no }}' }, files: [await table('a.csv', ['1', '2']), await table('b.csv', ['1', '3'])] });
      assert.equal((await ream.wait(job.id)).status, 'succeeded');
      const before = (await ream.artifacts(job.id)).map((file) => file.name).sort();
      assert.deepEqual(before, ['N-1-2.html', 'N-1.html', 'N-2.html', 'N-3.html']);
      // As the previous release left it: the files in the results and job_artifacts, no rows.
      const { store } = adaptersOf(ream);
      for (const doc of await ream.jobDocuments(job.id)) await store.putJobReportFiles(job.id, doc.documentId, []);

      await ream.addFile(job.id, { path: await table('c.csv', ['1', '4']) });
      assert.equal((await ream.wait(job.id)).status, 'succeeded');
      const names = (await ream.artifacts(job.id)).map((file) => file.name);
      assert.deepEqual([...names].sort(), ['N-1-2.html', 'N-1-3.html', 'N-1.html', 'N-2.html', 'N-3.html', 'N-4.html'], 'the earlier files kept, the new one with a name of its own');
      for (const name of before) assert.ok(await ream.artifact(job.id, name), `${name} found by its name`);
    });
  });
}

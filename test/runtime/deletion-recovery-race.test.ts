// Recovery finishes deletions cut short; another process (its own recovery, a DELETE) may finish
// one between recovery's listing and its deletion: that is done, not a warning.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { engineOf } from '../../src/runtime/internals.ts';
import { makePdf } from '../support/make-pdf.ts';
import { withModeReam } from '../support/modes.ts';

void test('recovery says nothing of a deletion cut short that another process finished meanwhile, and still warns of one it cannot finish', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-deletion-race-'));
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => { warnings.push(warning.message); };
  process.on('warning', onWarning);
  try {
    await withModeReam('embedded', {}, async ({ ream }) => {
      const { store } = engineOf(ream).ports;
      const submit = async (name: string): Promise<string> => {
        const path = join(dir, name);
        await writeFile(path, await makePdf({ pages: [name] }));
        const job = await ream.submit({ files: [path] });
        await ream.wait(job.id);
        return job.id;
      };
      const finished = await submit('finished.pdf');
      const failing = await submit('failing.pdf');
      const listed = store.listJobsDeletingBefore.bind(store);
      const remove = store.deleteJob.bind(store);
      // Listed as cut short; the first is deleted by another process before recovery gets to it,
      // the second's store refuses.
      store.listJobsDeletingBefore = async (before: number) => {
        await remove(finished);
        return [...(await listed(before)), finished, failing];
      };
      store.deleteJob = async (id: string) => {
        if (id === failing) throw new Error('the database is away');
        return remove(id);
      };
      await engineOf(ream).recover(() => Promise.resolve());
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      assert.deepEqual(warnings.filter((w) => w.includes(finished)), [], 'no warning of the job finished elsewhere');
      assert.equal(warnings.filter((w) => w.includes(failing)).length, 1, `a warning of the one it could not finish: ${warnings.join(' | ')}`);
    });
  } finally {
    process.off('warning', onWarning);
    await rm(dir, { recursive: true, force: true });
  }
});

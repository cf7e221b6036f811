// `ream run`'s safety net for lost events (RunTracker.sweep) looks up a bounded number of the
// documents still waiting for their line, in turn, rather than every one of them every time: a
// slow job with thousands of files queued asked the store for each of them every 3 s.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createProgressView } from '../../src/cli/progress-view.ts';
import { ResultsFile } from '../../src/cli/results-file.ts';
import { RunTracker, SWEEP_LOOKUPS, type RunSummary } from '../../src/cli/run-command.ts';
import type { Ream } from '../../src/runtime/create-ream.ts';

test('a sweep looks up at most SWEEP_LOOKUPS waiting documents, in turn, and still finds one whose event was lost', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-run-sweep-'));
  const out = ResultsFile.open(join(dir, 'out.jsonl'), false, dir);
  try {
    const files = 1_000;
    const ended = new Set<string>();
    let lookups = 0;
    // The few Ream calls the tracker makes, over documents named after their files.
    const ream = {
      addFile: (_jobId: string, file: { source: string }) => Promise.resolve({ documentId: file.source }),
      jobDocument: (_jobId: string, documentId: string) => {
        lookups++;
        return Promise.resolve({ documentId, status: ended.has(documentId) ? 'succeeded' : 'running' });
      },
      documentResult: (_jobId: string, documentId: string) => Promise.resolve({
        output: { documentId, source: documentId, sha256: 'ab', size: 1, mediaType: 'text/plain', status: 'succeeded', pageCount: 1, metadata: null, pages: [], fields: {}, failedPages: [], error: null },
      }),
      jobDocuments: () => Promise.resolve([]),
    } as unknown as Ream; // a stand-in: only these methods are called
    const summary: RunSummary = { total: files, skipped: 0, skippedUnsucceeded: 0, succeeded: 0, partial: 0, failed: 0, pages: 0, wallSeconds: 0, interrupted: false };
    const tracker = new RunTracker(ream, 'job_1', out, 'none', createProgressView('none', files), summary);
    const signal = new AbortController().signal;
    for (let i = 0; i < files; i++) await tracker.add({ absolute: join(dir, `f${i}.txt`), display: `f${i}.txt` }, signal);
    lookups = 0;
    // The last file added ends without its event.
    ended.add(`f${files - 1}.txt`);
    let sweeps = 0;
    while (summary.succeeded === 0 && sweeps < files) {
      const before = lookups;
      await tracker.sweep();
      await tracker.settled();
      sweeps++;
      assert.ok(lookups - before <= SWEEP_LOOKUPS, `a sweep looked up ${lookups - before} documents`);
    }
    assert.equal(summary.succeeded, 1, 'the document whose event was lost got its line');
    assert.equal(sweeps, Math.ceil(files / SWEEP_LOOKUPS), 'found on its turn, every waiting document looked up once before it');
    out.close();
    assert.match(await readFile(join(dir, 'out.jsonl'), 'utf8'), /"path":"f999\.txt"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

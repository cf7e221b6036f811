// A PDF of a few MB whose content stream inflates to 2 GB, sent to a real server over
// 127.0.0.1 beside an honest file. The heap cap of the parsing threads never sees decoded
// buffers (they live outside the V8 heap); the thread pool's buffer budget must stop the thread
// within seconds, on the first attempt, while the process stays small and the other file is read.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { ReamClient } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { writeBombPdf } from '../support/bomb-pdf.ts';
import { makePdf } from '../support/make-pdf.ts';

const MB = 1024 * 1024;
/** The parsing threads' memory cap (heap, and again for buffers): small, as on a small host. */
const MAX_MEMORY_MB = 256;
/** What the bomb inflates to: far past the cap, and past what the process may take. */
const DECODED_MB = 2048;
/** The test process's RSS may not pass this at any time (it inflated to ~4.6 GB before). */
const RSS_CEILING = 1536 * MB;

let dir: string;
let ream: Ream;
let server: RunningServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-bomb-'));
  await writeBombPdf(join(dir, 'bomb.pdf'), DECODED_MB);
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 2, maxMemoryMb: MAX_MEMORY_MB });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
});

after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

/** Attempts of the job's tasks, by kind and document, from the queue's own table. */
function attempts(jobId: string): Array<{ kind: string; documentId: string; attempts: number }> {
  const db = new Database(join(ream.dataDir, 'ream.db'), { readonly: true });
  try {
    const rows = db.prepare('select kind, payload, attempts from tasks where job_id = ?').all(jobId) as Array<{ kind: string; payload: string; attempts: number }>;
    return rows.map((row) => ({ kind: row.kind, documentId: (JSON.parse(row.payload) as { documentId: string }).documentId, attempts: row.attempts }));
  } finally {
    db.close();
  }
}

void describe('a decompression bomb', () => {
  void test('fails fast with resource_limit, once, with the process memory bounded, and the other file in the job succeeds', async () => {
    const client = new ReamClient({ baseUrl: server.url });
    let peakRss = process.memoryUsage.rss();
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }, 25);
    const started = performance.now();
    try {
      const job = await client.submit({
        files: [
          { name: 'bomb.pdf', data: new Uint8Array(await readFile(join(dir, 'bomb.pdf'))) },
          { name: 'honest.pdf', data: await makePdf({ pages: ['An honest page', 'And another'] }) },
        ],
      });
      // Bounded generously (a loaded machine stretches it): three attempts of the default 120 s
      // limit are what this replaces, and the one-attempt check below is the sharp one.
      const ended = await client.wait(job.id, { signal: AbortSignal.timeout(240_000) });
      const seconds = (performance.now() - started) / 1000;
      assert.equal(ended.status, 'partially_succeeded');
      const results = await client.results(job.id);
      const bomb = results.find((r) => r.source === 'bomb.pdf');
      const honest = results.find((r) => r.source === 'honest.pdf');
      assert.equal(bomb?.status, 'failed');
      assert.equal(bomb.error?.code, 'resource_limit', bomb.error?.message);
      assert.match(bomb.error.message, /outside its heap/);
      assert.equal(honest?.status, 'succeeded');
      assert.deepEqual(honest.pages.map((p) => p.text), ['An honest page', 'And another']);
      // One attempt of each of the bomb's tasks: a resource_limit is final, not "transient".
      const bombTasks = attempts(job.id).filter((t) => t.documentId === bomb.documentId && t.kind === 'chunk.extract');
      assert.equal(bombTasks.length, 1);
      assert.deepEqual(bombTasks.map((t) => t.attempts), [1]);
      assert.ok(seconds < 240, `took ${seconds.toFixed(1)} s`);
    } finally {
      clearInterval(sampler);
    }
    assert.ok(peakRss < RSS_CEILING, `peak RSS ${Math.round(peakRss / MB)} MB`);
  });
});

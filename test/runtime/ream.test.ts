import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Analyzer } from '../../src/analyzers/port.ts';
import { ReamError } from '../../src/errors.ts';
import type { ReamEvent } from '../../src/events/types.ts';
import type { DocumentOutput } from '../../src/pipeline/types.ts';
import { builtinPipelines } from '../../src/pipeline/builtin.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { countingAnalyzer, extractWith } from '../support/analyzers.ts';
import { makePdf, numberedPages, writePdf } from '../support/make-pdf.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';

const GIF_HEADER = Buffer.from('GIF89a', 'latin1');

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-engine-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(ream: Ream, jobId: string): Promise<Map<string, DocumentOutput>> {
  const bySource = new Map<string, DocumentOutput>();
  for await (const output of ream.results(jobId)) bySource.set(output.source, output);
  return bySource;
}

describe('embedded engine over real files', () => {
  test('a mixed batch: every good file comes out whole, every bad one with its code, none stops the rest', async () => {
    const files = join(dir, 'mixed');
    await rm(files, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(files, { recursive: true }));
    await writePdf(join(files, 'big.pdf'), { pages: numberedPages('A', 120), title: 'Big one', author: 'Ada' });
    await writePdf(join(files, 'small.pdf'), { pages: numberedPages('B', 2) });
    await writeFile(join(files, 'notes.txt'), 'first page\fsecond page\n');
    await writeFile(join(files, 'readme.md'), '# Title\n\nSome *markdown*.\n');
    await writeFile(join(files, 'empty.pdf'), '');
    await writeFile(join(files, 'image.pdf'), Buffer.concat([GIF_HEADER, Buffer.alloc(200, 1)]));
    await writeFile(join(files, 'text.pdf'), 'this is not a pdf at all\n');
    const whole = await makePdf({ pages: numberedPages('C', 30) });
    await writeFile(join(files, 'truncated.pdf'), whole.subarray(0, Math.floor(whole.length * 0.3)));

    const ream = await createReam({ dataDir: join(dir, 'data-mixed'), threads: 2 });
    const events: ReamEvent[] = [];
    try {
      const names = ['big.pdf', 'small.pdf', 'notes.txt', 'readme.md', 'empty.pdf', 'image.pdf', 'text.pdf', 'truncated.pdf'];
      const job = await ream.createJob({ options: { chunkPages: 25 } });
      const unsubscribe = ream.subscribe({ jobId: job.id }, (event) => events.push(event));
      for (const name of names) await ream.addFile(job.id, { path: join(files, name), source: name });
      const ended = await ream.wait(job.id);
      unsubscribe();
      assert.equal(ended.status, 'partially_succeeded');

      const results = await collect(ream, job.id);
      assert.equal(results.size, names.length, 'one result per file');
      const big = results.get('big.pdf');
      assert.equal(big?.status, 'succeeded');
      assert.equal(big?.pageCount, 120);
      assert.equal(big?.pages.length, 120);
      assert.deepEqual(big?.pages.map((p) => p.page), Array.from({ length: 120 }, (_, i) => i + 1), 'pages in order');
      assert.match(big?.pages[76]?.text ?? '', /A page 77 of 120/);
      assert.equal(big?.metadata?.title, 'Big one');
      assert.equal(big?.metadata?.author, 'Ada');
      assert.equal(results.get('small.pdf')?.status, 'succeeded');
      assert.deepEqual(results.get('notes.txt')?.pages.map((p) => p.text.trim()), ['first page', 'second page']);
      assert.equal(results.get('readme.md')?.status, 'succeeded');
      assert.equal(results.get('empty.pdf')?.error?.code, 'empty_file');
      assert.equal(results.get('image.pdf')?.error?.code, 'unsupported_type');
      assert.equal(results.get('text.pdf')?.error?.code, 'invalid_pdf');
      assert.equal(results.get('truncated.pdf')?.status, 'failed');
      assert.equal(results.get('truncated.pdf')?.error?.code, 'invalid_pdf');

      // Events: stored with a gapless per-job seq, and the live ones match the stored ones.
      const stored = await ream.listEvents(job.id, 0, 10_000);
      assert.deepEqual(stored.map((e) => e.seq), stored.map((_, i) => i + 1), 'gapless seq from 1');
      // Live delivery starts at subscribe time: everything after job.queued (seq 1), in order.
      assert.deepEqual(events.map((e) => e.seq), stored.slice(1).map((e) => e.seq));
      const types = new Set(stored.map((e) => e.type));
      for (const type of ['job.queued', 'job.started', 'document.started', 'chunk.completed', 'document.completed', 'document.failed', 'job.completed']) {
        assert.ok(types.has(type as ReamEvent['type']), `has ${type}`);
      }
      assert.equal(stored.filter((e) => e.type === 'chunk.completed' && e.documentId === big?.documentId).length, 5, '120 pages at 25 per chunk');
      const last = stored.at(-1);
      assert.equal(last?.type, 'job.completed');
      assert.equal(last?.progress.percent, 100);
      assert.equal(last?.progress.documentsDone, names.length);
      assert.equal(last?.progress.pagesDone, last?.progress.pagesTotal);

      const hits = await ream.search('INV-A-77');
      assert.equal(hits[0]?.documentId, big?.documentId);
      assert.equal(hits[0]?.page, 77);
    } finally {
      await ream.close();
    }
  });

  test('rules pipeline finds fields with their pages', async () => {
    const path = join(dir, 'invoice.pdf');
    await writePdf(path, { pages: ['Hello\nCustomer: ACME Corp', 'Total due: 1,234.50 EUR\nIBAN DE89370400440532013000'] });
    const ream = await createReam({ dataDir: join(dir, 'data-rules'), threads: 1 });
    try {
      const job = await ream.submit({
        files: [path],
        pipeline: 'rules',
        options: {
          rules: [
            { name: 'total', pattern: 'Total due: ([\\d,.]+)', group: 1 },
            { name: 'customer', pattern: 'Customer: (.+)', group: 1 },
            { name: 'iban', keywords: ['IBAN'] },
          ],
        },
      });
      assert.equal((await ream.wait(job.id)).status, 'succeeded');
      const [result] = await Array.fromAsync(ream.results(job.id));
      assert.deepEqual(result?.fields.total, [{ value: '1,234.50', page: 2 }]);
      assert.deepEqual(result?.fields.customer, [{ value: 'ACME Corp', page: 1 }]);
      assert.equal(result?.fields.iban?.[0]?.page, 2);
    } finally {
      await ream.close();
    }
  });

  test('bad job options are refused at submit with validation_failed', async () => {
    const ream = await createReam({ dataDir: join(dir, 'data-bad'), threads: 1, work: false });
    try {
      await assert.rejects(ream.createJob({ pipeline: 'nope' }), (e: unknown) => e instanceof ReamError && e.code === 'validation_failed');
      await assert.rejects(ream.createJob({ options: { chunkPages: -1 } }), (e: unknown) => e instanceof ReamError && e.code === 'validation_failed');
      await assert.rejects(ream.createJob({ pipeline: 'rules' }), (e: unknown) => e instanceof ReamError && e.code === 'validation_failed');
    } finally {
      await ream.close();
    }
  });

  test('retryable analyzer failures are retried; a chunk that keeps failing is reported page by page', async () => {
    const path = join(dir, 'flaky.pdf');
    await writePdf(path, { pages: numberedPages('F', 6) });
    const calls = new Map<number, number>();
    // Pages 1-2 fail once then work; pages 5-6 always fail (non-retryable); 3-4 always work.
    const flaky = countingAnalyzer(calls, (first, n) => {
      if (first === 1 && n === 1) return ReamError.retryable('analyzer_failed', 'temporary outage');
      if (first === 5) return ReamError.nonRetryable('analyzer_failed', 'this chunk is hopeless');
      return undefined;
    });
    const ream = await createReam({
      dataDir: join(dir, 'data-flaky'),
      threads: 1,
      pipelines: extractWith('flaky', flaky),
    });
    try {
      const job = await ream.submit({ files: [path], pipeline: 'flaky', options: { chunkPages: 2 } });
      const ended = await ream.wait(job.id);
      assert.equal(ended.status, 'partially_succeeded');
      const [result] = await Array.fromAsync(ream.results(job.id));
      assert.equal(result?.status, 'partially_succeeded');
      assert.equal(calls.get(1), 2, 'retried once, then succeeded');
      assert.equal(calls.get(5), 1, 'non-retryable: no retry');
      const chunkEnds = (await ream.listEvents(job.id, 0, 1000)).filter((event) => event.type === 'chunk.completed' || event.type === 'chunk.failed');
      assert.deepEqual(chunkEnds.map((event) => [event.chunk?.index, event.type, event.attempt]).sort(), [[0, 'chunk.completed', 2], [1, 'chunk.completed', 1], [2, 'chunk.failed', 1]], 'each chunk event says which attempt ended it');
      assert.deepEqual(result?.pages.map((p) => p.page), [1, 2, 3, 4]);
      assert.deepEqual(result?.failedPages.map((f) => [f.page, f.code]), [[5, 'analyzer_failed'], [6, 'analyzer_failed']]);
    } finally {
      await ream.close();
    }
  });

  test('retry reruns only the failed chunks and the job ends succeeded', async () => {
    const path = join(dir, 'retry.pdf');
    await writePdf(path, { pages: numberedPages('T', 6) });
    const calls = new Map<number, number>();
    // Pages 3-4 and 5-6 fail for good the first time (non-retryable), then work.
    const flaky = countingAnalyzer(calls, (first, n) => (first >= 3 && n === 1 ? ReamError.nonRetryable('analyzer_failed', 'down for now') : undefined));
    const ream = await createReam({
      dataDir: join(dir, 'data-retry'),
      threads: 1,
      pipelines: extractWith('once', flaky),
    });
    try {
      const job = await ream.submit({ files: [path], pipeline: 'once', options: { chunkPages: 2 } });
      assert.equal((await ream.wait(job.id)).status, 'partially_succeeded');
      await assert.rejects(ream.retry('job_nope'), (e: unknown) => e instanceof ReamError && e.code === 'not_found');

      const retried = await ream.retry(job.id);
      assert.equal(retried.status, 'running');
      const ended = await ream.wait(job.id);
      assert.equal(ended.status, 'succeeded');
      assert.equal(ended.error, null);
      assert.deepEqual([...calls.entries()].sort((a, b) => a[0] - b[0]), [[1, 1], [3, 2], [5, 2]], 'only the failed chunks ran again');
      const [result] = await Array.fromAsync(ream.results(job.id));
      assert.equal(result?.status, 'succeeded');
      assert.deepEqual(result?.pages.map((p) => p.page), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(result?.failedPages, []);
      assert.deepEqual(result?.fields.seen?.map((f) => f.page), [1, 3, 5]);
      const counts = await ream.counts(job.id);
      assert.equal(counts.chunksSucceeded, 3);
      assert.equal(counts.chunksFailed, 0);

      const events = await ream.listEvents(job.id, 0, 10_000);
      assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'seq stays gapless');
      const types = events.map((e) => e.type);
      assert.equal(types.filter((t) => t === 'job.completed').length, 2, 'ended once per run');
      assert.equal(types.filter((t) => t === 'job.started').length, 2, 'the retry restarts the job');
      assert.equal(types.at(-1), 'job.completed');
      assert.equal(events.at(-1)?.progress.percent, 100);

      // A succeeded job has nothing to retry.
      await assert.rejects(ream.retry(job.id), (e: unknown) => e instanceof ReamError && e.code === 'validation_failed');
    } finally {
      await ream.close();
    }
  });

  test('cancel stops the job, keeps finished chunks, and is final', async () => {
    const path = join(dir, 'long.pdf');
    await writePdf(path, { pages: numberedPages('L', 200) });
    let release: (() => void) | undefined;
    const gate = new Promise<void>((resolveGate) => { release = resolveGate; });
    const slow: Analyzer = {
      name: 'slow',
      config: null,
      async analyze(pages, { signal }) {
        if ((pages[0]?.page ?? 0) > 1) await Promise.race([gate, new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))]);
        return {};
      },
    };
    const ream = await createReam({
      dataDir: join(dir, 'data-cancel'),
      threads: 1,
      concurrency: 2,
      pipelines: { slow: (options) => ({ ...builtinPipelines.extract!(options), name: 'slow', analyzers: [slow] }) },
    });
    try {
      const job = await ream.submit({ files: [path], pipeline: 'slow', options: { chunkPages: 10 } });
      await new Promise<void>((resolveChunk) => {
        const off = ream.subscribe({ jobId: job.id }, (event) => {
          if (event.type === 'chunk.completed') { off(); resolveChunk(); }
        });
      });
      const cancelled = await ream.cancel(job.id);
      assert.equal(cancelled.status, 'cancelled');
      release?.();
      assert.equal((await ream.wait(job.id)).status, 'cancelled');
      // Aborted tasks unwind on their own: within moments nothing of the job is left to run.
      let live = Infinity;
      for (let i = 0; i < 1_000 && live > 0; i++) {
        const counts = await ream.taskCounts(job.id);
        live = counts.queued + counts.waiting + counts.leased;
        if (live > 0) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(live, 0, 'nothing left to run');
      const chunks = await adaptersOf(ream).store.listChunkResults(job.id, (await ream.jobDocuments(job.id))[0]!.documentId);
      assert.ok(chunks.some((c) => c.status === 'succeeded' && c.from === 0), 'the finished chunk is kept');
      assert.ok(chunks.length < 20, 'most chunks never ran');
      // Results already made stay readable: the cancelled document's result has the pages read
      // before the cancel, and every other page as failed with `cancelled` (never `internal`).
      const [output] = await Array.fromAsync(ream.results(job.id));
      assert.equal(output?.status, 'cancelled');
      assert.equal(output.error?.code, 'cancelled');
      assert.equal(output.pageCount, 200);
      const read = chunks.filter((c) => c.status === 'succeeded').reduce((n, c) => n + c.to - c.from, 0);
      assert.equal(output.pages.length, read, 'every page read before the cancel');
      assert.match(output.pages[0]?.text ?? '', /L page 1 of 200/);
      assert.equal(output.pages.length + output.failedPages.length, 200, 'every page accounted for');
      assert.ok(output.failedPages.every((f) => f.code === 'cancelled'), 'pages never read: cancelled');
      const one = await ream.documentResult(job.id, output.documentId);
      assert.deepEqual(one?.output, output, 'the same from documentResult');
      const pages = await Array.fromAsync(ream.documentPages(job.id, output.documentId));
      assert.equal(pages.length, 200);
      assert.ok(pages.filter((p) => p.failure).every((p) => p.failure?.code === 'cancelled'), 'the page listing agrees');
      const events = await ream.listEvents(job.id, 0, 10_000);
      assert.equal(events.filter((e) => e.type === 'job.cancelled').length, 1);
      assert.equal(events.filter((e) => e.type === 'job.completed').length, 0);
      await assert.rejects(ream.addFile(job.id, { path }), (e: unknown) => e instanceof ReamError && e.code === 'validation_failed');
    } finally {
      await ream.close();
    }
  });

  test('closing mid-job and opening the data dir again finishes the job without redoing a chunk', async () => {
    const path = join(dir, 'resume.pdf');
    await writePdf(path, { pages: numberedPages('R', 90) });
    const dataDir = join(dir, 'data-resume');
    let first = await createReam({ dataDir, threads: 1, concurrency: 1 });
    const job = await first.submit({ files: [path], options: { chunkPages: 5 } });
    await new Promise<void>((resolveChunk) => {
      let seen = 0;
      const off = first.subscribe({ jobId: job.id }, (event) => {
        if (event.type === 'chunk.completed' && ++seen === 3) { off(); resolveChunk(); }
      });
    });
    await first.close();
    first = await createReam({ dataDir, threads: 1 });
    try {
      assert.equal((await first.wait(job.id)).status, 'succeeded');
      const events = await first.listEvents(job.id, 0, 10_000);
      const completions = events.filter((e) => e.type === 'chunk.completed').map((e) => e.chunk?.index);
      assert.equal(completions.length, 18, '90 pages / 5 = 18 chunks');
      assert.equal(new Set(completions).size, 18, 'each chunk completed exactly once');
      const [result] = await Array.fromAsync(first.results(job.id));
      assert.equal(result?.pages.length, 90);
    } finally {
      await first.close();
    }
  });
});

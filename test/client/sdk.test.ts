import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ReamClient, ReamHttpError, type FetchLike, type Progress, type ReamEvent } from '../../src/client/index.ts';
import { ReamError } from '../../src/errors.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { END_EVENT_GRACE_MS } from '../../src/server/follow-events.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;
let client: ReamClient;
let pathA: string;
let bytesB: Uint8Array;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-client-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 2 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
  client = new ReamClient({ baseUrl: `${server.url}/` });
  pathA = join(dir, 'a.pdf');
  await writeFile(pathA, await makePdf({ pages: numberedPages('A', 6), title: 'A' }));
  bytesB = await makePdf({ pages: numberedPages('B', 4), title: 'B' });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('ReamClient against the real server', () => {
  let jobId: string;
  let allEvents: ReamEvent[];

  test('submit a path and bytes; wait reports page progress up to 100 %', async () => {
    const job = await client.submit({
      files: [pathA, { name: 'b.pdf', data: bytesB }],
      pipeline: 'extract',
      options: { chunkPages: 2 },
      priority: 'high',
      idempotencyKey: 'client-test-1',
    });
    assert.match(job.id, /\S/);
    assert.equal(job.priority, 'high');
    assert.equal(job.counts.documents.total, 2);
    jobId = job.id;

    const seen: Progress[] = [];
    const final = await client.wait(jobId, { onProgress: (progress) => seen.push(progress) });
    assert.equal(final.status, 'succeeded');
    assert.ok(seen.length >= 3, 'several progress reports');
    for (let i = 1; i < seen.length; i++) {
      assert.ok((seen[i]?.pagesDone ?? 0) >= (seen[i - 1]?.pagesDone ?? 0), 'pagesDone never goes down');
    }
    assert.ok(seen.some((p) => p.pagesDone > 0 && p.pagesDone < 10), 'intermediate page counts');
    assert.deepEqual({ ...seen.at(-1), etaSeconds: 0 }, { documentsDone: 2, documentsTotal: 2, pagesDone: 10, pagesTotal: 10, percent: 100, etaSeconds: 0 });

    const again = await client.submit({ files: [{ name: 'b.pdf', data: new Blob([bytesB]) }], pipeline: 'extract', options: { chunkPages: 2 }, priority: 'high', idempotencyKey: 'client-test-1' });
    assert.equal(again.id, jobId, 'Idempotency-Key answers the first job (its files are not read again)');
    await assert.rejects(client.submit({ files: [{ name: 'b.pdf', data: new Blob([bytesB]) }], idempotencyKey: 'client-test-1' }),
      (error: ReamError) => error.code === 'idempotency_conflict', 'the key with other options and priority is refused');
  });

  test('a repeated submit with the same idempotency key sends its files no more, multipart or over tus', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(server.url).port) });
    try {
      const viaProxy = new ReamClient({ baseUrl: proxy.url(server.url) });
      const path = join(dir, 'repeat.pdf');
      await writeFile(path, Buffer.concat([await makePdf({ pages: ['repeat'] }), Buffer.alloc(500_000, 0x20)]));
      for (const uploadThresholdBytes of [undefined, 0]) {
        const request = { files: [path], idempotencyKey: `repeat-${uploadThresholdBytes ?? 'multipart'}`, ...(uploadThresholdBytes === undefined ? {} : { uploadThresholdBytes }) };
        const first = await viaProxy.submit(request);
        const before = proxy.bytesIn();
        assert.ok(before > 500_000, 'the first submit sent the file');
        const again = await viaProxy.submit(request);
        assert.equal(again.id, first.id);
        assert.ok(proxy.bytesIn() - before < 10_000, `the repeat sent ${proxy.bytesIn() - before} bytes`);
        await assert.rejects(viaProxy.submit({ ...request, priority: 'low' }), (error: ReamError) => error.code === 'idempotency_conflict', 'still checked against the first request');
      }
      assert.equal((await client.listJobs({ idempotencyKey: 'repeat-0' })).items.length, 1);
      assert.deepEqual((await client.listJobs({ idempotencyKey: 'no-such-key' })).items, []);
    } finally {
      await proxy.close();
    }
  });

  test('files and keys of the wrong shape are refused with validation_failed before anything is sent', async () => {
    const jobsBefore = (await ream.listJobs({ tenantId: 'local', limit: 500 })).items.length;
    // What a JavaScript caller (no type checks) may pass: each was sent as a file of its text, or threw a TypeError.
    const careless: unknown[] = [{ files: pathA }, { files: [42] }, { files: [null] }, { files: [{}] }, { files: [{ name: 'x.txt', data: 'hello' }] }, { files: [pathA], idempotencyKey: 'a\nb' }];
    for (const request of careless) {
      await assert.rejects(client.submit(request as Parameters<ReamClient['submit']>[0]), (error: unknown) => error instanceof ReamError && error.code === 'validation_failed', JSON.stringify(request));
    }
    assert.equal((await ream.listJobs({ tenantId: 'local', limit: 500 })).items.length, jobsBefore, 'no job was made');
  });

  test('results and streamResults: one item per file, in input order', async () => {
    const items = await client.results(jobId);
    assert.deepEqual(items.map((i) => [i.source, i.pageCount, i.status]), [['a.pdf', 6, 'succeeded'], ['b.pdf', 4, 'succeeded']]);
    assert.match(items[0]?.pages[5]?.text ?? '', /A page 6 of 6/);
    const streamed = await collect(client.streamResults(jobId));
    assert.deepEqual(streamed, items);
  });

  test('search finds the indexed page of a submitted file', async () => {
    const items = await client.results(jobId);
    const hits = await client.search('INV-B-3');
    assert.equal(hits[0]?.documentId, items[1]?.documentId);
    assert.equal(hits[0]?.page, 3);
    assert.equal(hits[0]?.name, 'b.pdf');
    assert.equal((await client.search('invoice number', { limit: 4 })).length, 4);
    await assert.rejects(client.search(' '), { code: 'validation_failed', httpStatus: 400 });
  });

  test('search filters: job, type, dates and fields (a record or pairs) narrow the hits', async () => {
    const ruled = await client.submit({
      files: [{ name: 'c.pdf', data: await makePdf({ pages: ['Walrus memo', 'Walrus terms, Ref R-77'] }) }],
      pipeline: 'rules',
      options: { rules: [{ name: 'ref', pattern: 'Ref (R-\\d+)' }] },
    });
    assert.equal((await client.wait(ruled.id)).status, 'succeeded');
    const pages = async (q: string, options: Parameters<ReamClient['search']>[1]): Promise<number[]> =>
      (await client.search(q, options)).map((hit) => hit.page).sort();
    assert.deepEqual(await pages('walrus', { jobId: ruled.id, type: 'pdf', from: new Date(Date.now() - 600_000), to: Date.now() + 1_000 }), [1, 2]);
    assert.deepEqual(await pages('walrus', { jobId }), [], 'the first job did not index it');
    assert.deepEqual(await pages('walrus', { fields: { REF: 'r-77' } }), [1, 2]);
    assert.deepEqual(await pages('walrus', { fields: [['ref', 'R-78']] }), []);
    assert.deepEqual(await pages('', { fields: [['ref', 'R-77']] }), [1], 'no words: the document\'s first page');
    assert.deepEqual(await pages('walrus', { type: 'image' }), []);
    await assert.rejects(client.search('walrus', { from: 'yesterday' }), { code: 'validation_failed', httpStatus: 400 });
  });

  test('events replays everything, or only after afterSeq, and stops at the terminal event', async () => {
    allEvents = await collect(client.events(jobId));
    assert.deepEqual(allEvents.map((e) => e.seq), allEvents.map((_, i) => i + 1));
    assert.equal(allEvents.at(-1)?.type, 'job.completed');
    const later = await collect(client.events(jobId, { afterSeq: 3 }));
    assert.deepEqual(later, allEvents.slice(3));
    // After the last event of the ended job: none, and at once (the server's 204), not after
    // ten reconnects and an io_error.
    const last = allEvents.at(-1)?.seq ?? 0;
    const job = await client.getJob(jobId);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, END_EVENT_GRACE_MS - (Date.now() - Date.parse(job.finishedAt ?? ''))) + 50));
    const started = Date.now();
    assert.deepEqual(await collect(client.events(jobId, { afterSeq: last })), []);
    assert.ok(Date.now() - started < 5_000, 'ended at once');
  });

  test('events reconnects with Last-Event-ID when the connection drops', async () => {
    const lastEventIds: (string | undefined)[] = [];
    let connections = 0;
    // Cuts each event stream after its first two events, as a flaky proxy would.
    const flaky: FetchLike = async (input, init) => {
      const response = await fetch(input, init);
      if (!input.endsWith('/events') || !response.body) return response;
      connections++;
      lastEventIds.push((init?.headers as Record<string, string> | undefined)?.['last-event-id']);
      const text = await response.text();
      const frames = text.split('\n\n').filter((f) => f.includes('data:'));
      return new Response(`${frames.slice(0, 2).join('\n\n')}\n\n`, { headers: response.headers });
    };
    const events = await collect(new ReamClient({ baseUrl: server.url, fetch: flaky, reconnectDelayMs: 1 }).events(jobId));
    assert.deepEqual(events, allEvents);
    assert.equal(connections, Math.ceil(allEvents.length / 2));
    assert.deepEqual(lastEventIds.slice(0, 3), [undefined, '2', '4']);
  });

  test('cancel a long job: it ends cancelled before its last page', async () => {
    const big = await makePdf({ pages: numberedPages('C', 400) });
    const job = await client.submit({ files: [{ name: 'big.pdf', data: big }], options: { chunkPages: 1 } });
    const cancelled = await client.cancel(job.id);
    assert.equal(cancelled.status, 'cancelled');
    const final = await client.wait(job.id);
    assert.equal(final.status, 'cancelled');
    assert.ok(final.progress.pagesDone < 400);
    const events = await collect(client.events(job.id));
    assert.equal(events.at(-1)?.type, 'job.cancelled');
    const page = await client.listJobs({ status: 'cancelled', limit: 10 });
    assert.ok(page.items.some((j) => j.id === job.id));
  });

  test('problem+json answers become ReamHttpError with the stable code', async () => {
    for (const call of [() => client.getJob('job_nope'), () => client.cancel('job_nope'), () => client.results('job_nope'), () => collect(client.events('job_nope'))]) {
      await assert.rejects(call(), (error: unknown) => {
        assert.ok(error instanceof ReamHttpError);
        assert.ok(error instanceof ReamError);
        assert.equal(error.code, 'not_found');
        assert.equal(error.httpStatus, 404);
        assert.equal(error.message, 'no job job_nope');
        assert.equal(error.problem?.code, 'not_found');
        return true;
      });
    }
    await assert.rejects(client.submit({ files: [{ name: 'x.pdf', data: bytesB }], options: { chunkPages: -1 } }), { code: 'validation_failed', httpStatus: 400 });
    await assert.rejects(client.submit({ files: [join(dir, 'missing.pdf')] }), { code: 'not_found' });
  });

  test('an unreachable server is io_error', async () => {
    const closed = await startServer({ ream, host: '127.0.0.1', port: 0 });
    const url = closed.url;
    await closed.close();
    await assert.rejects(new ReamClient({ baseUrl: url }).getJob('x'), { code: 'io_error', retryable: true });
  });
});

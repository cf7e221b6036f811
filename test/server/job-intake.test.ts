// A job that receives its files over time must not end, and tell its followers it has, while
// files are still coming: its first file may be done long before the last one is in.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { ReamEvent } from '../../src/events/types.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import type { JobView } from '../../src/server/views.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';

const TERMINAL = new Set(['job.completed', 'job.failed', 'job.cancelled']);
/** Long enough for a one-page PDF to be processed many times over. */
const PAUSE_MS = 1500;

let dir: string;
let ream: Ream;
let server: RunningServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-intake-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

async function events(jobId: string): Promise<ReamEvent[]> {
  const out: ReamEvent[] = [];
  for (let seq = 0; ; ) {
    const page = await ream.listEvents(jobId, seq);
    if (page.length === 0) return out;
    out.push(...page);
    seq = page.at(-1)?.seq ?? seq;
  }
}

/** Exactly one terminal event, the last one, after both documents ended. */
function assertEndsOnce(list: readonly ReamEvent[]): void {
  const types = list.map((e) => e.type);
  assert.deepEqual(types.filter((t) => TERMINAL.has(t)), ['job.completed'], `one terminal event: ${types.join(', ')}`);
  assert.equal(types.at(-1), 'job.completed');
  assert.equal(types.filter((t) => t === 'document.completed').length, 2);
  assert.equal(list.at(-1)?.progress.documentsDone, 2);
}

describe('files that arrive over time', () => {
  test('multipart POST /v1/jobs: the second file comes after a pause; the job ends once, after both', async () => {
    const first = await makePdf({ pages: numberedPages('F', 1) });
    const second = await makePdf({ pages: numberedPages('S', 1) });
    const boundary = 'ream-intake-boundary';
    const part = (name: string): string =>
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/pdf\r\n\r\n`;
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode(part('first.pdf')));
        controller.enqueue(first);
        // The next part's head ends the first file: it is stored, and could be processed, while
        // the second file's bytes are late.
        controller.enqueue(encoder.encode(`\r\n${part('second.pdf')}`));
        await delay(PAUSE_MS);
        controller.enqueue(second);
        controller.enqueue(encoder.encode(`\r\n--${boundary}--\r\n`));
        controller.close();
      },
    });
    const response = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    });
    assert.equal(response.status, 202, await response.clone().text());
    const job = (await response.json()) as JobView;
    assert.equal(job.counts.documents.total, 2);
    assert.equal((await ream.wait(job.id)).status, 'succeeded');
    assertEndsOnce(await events(job.id));
  });

  test('a multipart upload cut short by the size limit makes no job; bad options are refused before any file is read', async () => {
    const small = await startServer({ ream, host: '127.0.0.1', port: 0, maxFileBytes: 4096 });
    try {
      const before = (await ream.listJobs({ tenantId: 'local', limit: 500 })).items.length;
      const body = new FormData();
      body.append('file', new Blob([await makePdf({ pages: numberedPages('OK', 1) })], { type: 'application/pdf' }), 'fits.pdf');
      body.append('file', new Blob([new Uint8Array(64 * 1024).fill(0x20)], { type: 'application/pdf' }), 'too-big.pdf');
      const refused = await fetch(`${small.url}/v1/jobs`, { method: 'POST', body });
      assert.equal(refused.status, 413);
      assert.equal(((await refused.json()) as { code: string }).code, 'file_too_large');

      const badOptions = new FormData();
      badOptions.append('options', '{"chunkPages":-1}');
      badOptions.append('file', new Blob([await makePdf({ pages: numberedPages('X', 1) })], { type: 'application/pdf' }), 'x.pdf');
      const invalid = await fetch(`${small.url}/v1/jobs`, { method: 'POST', body: badOptions });
      assert.equal(invalid.status, 400);
      assert.equal(((await invalid.json()) as { code: string }).code, 'validation_failed');

      const after = (await ream.listJobs({ tenantId: 'local', limit: 500 })).items.length;
      assert.equal(after, before, 'no job was created');
    } finally {
      await small.close();
    }
  });

  test('a multipart job refused on its fields while its file is still coming: answered at once, and close() does not wait for that client for good', { timeout: 30_000 }, async () => {
    const own = await startServer({ ream, host: '127.0.0.1', port: 0 });
    const socket = connect(Number(new URL(own.url).port), '127.0.0.1');
    const boundary = 'ream-test-boundary';
    const head = `--${boundary}\r\ncontent-disposition: form-data; name="pipeline"\r\n\r\nnosuch\r\n--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="big.pdf"\r\ncontent-type: application/pdf\r\n\r\n%PDF-1.7\n`;
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    // Declares 10 MB of body, sends a little and then nothing more: a client that went quiet.
    socket.write(`POST /v1/jobs HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${10 * 1024 * 1024}\r\n\r\n${head}`);
    while (!/validation_failed/.test(answer)) await delay(20);
    assert.match(answer, /^HTTP\/1\.1 400 /);
    // The client holds its connection open, its body unfinished: close() ends it after its grace.
    const started = Date.now();
    await own.close();
    await ended;
    assert.ok(Date.now() - started < 15_000, `closed without waiting on that client for good (${Date.now() - started} ms)`);
  });

  test('library submit over files yielded over time: the job ends once, after both', async () => {
    await writeFile(join(dir, 'a.pdf'), await makePdf({ pages: numberedPages('A', 1) }));
    await writeFile(join(dir, 'b.pdf'), await makePdf({ pages: numberedPages('B', 1) }));
    async function* slowly(): AsyncGenerator<string> {
      yield join(dir, 'a.pdf');
      await delay(PAUSE_MS);
      yield join(dir, 'b.pdf');
    }
    const job = await ream.submit({ files: slowly() });
    assert.equal((await ream.wait(job.id)).status, 'succeeded');
    assertEndsOnce(await events(job.id));
  });
});

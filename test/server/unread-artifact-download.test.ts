// A report download through the real route (GET /v1/jobs/:id/artifacts/:name) to a client that
// stops reading after the headers is cut once nothing has gone for the server's downloadStallMs;
// the server goes on answering other clients, a reader of the same file among them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { neverReading } from '../support/never-reading.ts';

/** Far more than the kernel's socket buffers hold on both ends. */
const REPORT_BYTES = 48 * 1024 * 1024;
const STALL_MS = 1_000;
const CUT_LOG = 'a response was not read: connection closed';

let dir: string;
let ream: Ream;
let server: RunningServer;
let jobId: string;
let sha256: string;
const logLines: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-unread-artifact-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, downloadStallMs: STALL_MS, logger: { level: 'warn', stream } });
  const body = new FormData();
  body.append('file', new Blob(['a note']), 'a.txt');
  const submitted = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body });
  assert.equal(submitted.status, 202, await submitted.clone().text());
  jobId = ((await submitted.json()) as { id: string }).id;
  const documents = (await (await fetch(`${server.url}/v1/jobs/${jobId}/documents`)).json()) as { items: Array<{ documentId: string }> };
  const documentId = documents.items[0]?.documentId ?? '';
  // A large rendered report of the job, as a rows job records one.
  const piece = Buffer.alloc(1024 * 1024, 0x25);
  const blob = await adaptersOf(ream).blobs.put(Readable.from((function* () {
    for (let sent = 0; sent < REPORT_BYTES; sent += piece.length) yield piece;
  })()));
  sha256 = blob.sha256;
  await adaptersOf(ream).store.putJobReportFiles(jobId, documentId, [{ name: 'big.pdf', row: 1, sha256, size: REPORT_BYTES, mediaType: 'application/pdf' }]);
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const by = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < by, what);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a report download its client stops reading is cut after downloadStallMs; other clients are answered meanwhile and after', { timeout: 120_000 }, async () => {
  const { socket, head, received } = await neverReading(Number(new URL(server.url).port), `/v1/jobs/${jobId}/artifacts/big.pdf`);
  assert.match(head(), /^HTTP\/1\.1 200 /, head());
  // While the download waits on its client, the server answers another.
  const meanwhile = await fetch(`${server.url}/v1/jobs/${jobId}`);
  assert.equal(meanwhile.status, 200);
  await meanwhile.arrayBuffer();

  await waitFor(() => logLines.some((line) => line.includes(CUT_LOG)), 'the server cut the download that was not read');
  const closed = once(socket, 'close').then(() => true);
  socket.resume();
  const cut = await Promise.race([closed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000))]);
  socket.destroy();
  assert.equal(cut, true, `the connection was not cut: ${received()} bytes read`);
  assert.ok(received() < REPORT_BYTES, `${received()} bytes read of ${REPORT_BYTES}`);
  const line = JSON.parse(logLines.find((l) => l.includes(CUT_LOG)) ?? '{}') as { stallMs?: number; unreadBytes?: number };
  assert.equal(line.stallMs, STALL_MS);
  assert.ok((line.unreadBytes ?? 0) > 0);

  // A client that reads gets the whole file, the bound short as it is.
  const whole = await fetch(`${server.url}/v1/jobs/${jobId}/artifacts/big.pdf`);
  assert.equal(whole.status, 200);
  const hash = createHash('sha256');
  let got = 0;
  for await (const chunk of whole.body ?? []) {
    hash.update(chunk as Uint8Array);
    got += (chunk as Uint8Array).length;
  }
  assert.equal(got, REPORT_BYTES);
  assert.equal(hash.digest('hex'), sha256);
  assert.equal(logLines.filter((l) => l.includes(CUT_LOG)).length, 1, 'only the client that did not read was cut');
});

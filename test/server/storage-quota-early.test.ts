// A tenant near its storage quota is refused a file that cannot be taken as soon as that is
// known: by the request's declared length, or, as the bytes stream, once they pass the room left
// (and the size of any content it holds, which would cost nothing): never at the end of the file.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { makePdf } from '../support/make-pdf.ts';
import { issueTenantKeys, type TenantKeys } from '../support/tenant-keys.ts';

const KB = 1024;
/** What a refused request would send whole: far more than it may. */
const FILE_BYTES = 8 * 1024 * KB;
const BOUNDARY = 'quota-boundary';

let dir: string;
let ream: Ream;
let server: RunningServer;
let keys: TenantKeys;
/** The bytes of the tenant's largest document (100 KB). */
let held: Buffer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-quota-early-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
  keys = await issueTenantKeys(ream);
  // Three documents of 100 KB: 300 KB used, the largest 100 KB; 1 KB of room left.
  for (const n of [1, 2, 3]) {
    const pdf = await makePdf({ pages: [`held ${n}`] });
    held = Buffer.concat([pdf, Buffer.alloc(100 * KB - pdf.length, 0x20)]);
    const body = new FormData();
    body.append('file', new Blob([held], { type: 'application/pdf' }), `held-${n}.pdf`);
    const stored = await fetch(`${server.url}/v1/documents`, { method: 'POST', headers: { authorization: `Bearer ${keys.a}` }, body });
    assert.equal(stored.status, 201);
  }
  const used = (await ream.tenants.tenant('tenant-a')).usage.storageBytes;
  const quotas = await fetch(`${server.url}/v1/tenants/tenant-a/quotas`, {
    method: 'PUT', headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ storageBytes: used + KB }),
  });
  assert.equal(quotas.status, 200);
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

interface Sent {
  status: number;
  code: string;
  /** Body bytes written before the answer came. */
  sent: number;
}

/**
 * A multipart request of one PDF file of `fileBytes`, its body written 64 KB at a time, with its
 * Content-Length or chunked. Once `holdAfter` bytes of the file are sent, nothing more is written
 * until the answer comes: a refusal is then a refusal before the body's end. (A client still
 * writing when the server answers and closes may have its next write fail with EPIPE and its
 * socket torn down before the answer is read: the answer would be lost, not wrong.) The answer,
 * and how much of the body was sent by then.
 */
function sendFile(path: string, fileBytes: number, declareLength: boolean, holdAfter = fileBytes): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const head = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n`);
    const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
    const headers: Record<string, string | number> = { authorization: `Bearer ${keys.a}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };
    if (declareLength) headers['content-length'] = head.length + fileBytes + tail.length;
    let sent = 0;
    let answered = false;
    const req = request(`${server.url}${path}`, { method: 'POST', headers, agent: false }, (response) => {
      answered = true;
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, code: (JSON.parse(Buffer.concat(parts).toString()) as { code: string }).code, sent }));
    });
    // The server may close the connection once it has answered (a write then fails with EPIPE
    // before the answer is read): only a connection that ends with no answer fails.
    req.on('error', (error) => setTimeout(() => (answered ? undefined : reject(error)), 1000));
    const piece = Buffer.alloc(64 * KB, 0x20);
    const write = (): void => {
      if (answered || req.destroyed || !req.writable) return;
      if (sent >= fileBytes) {
        req.end(tail);
        return;
      }
      if (sent >= holdAfter) return; // held: only the answer comes next
      const part = piece.subarray(0, Math.min(piece.length, fileBytes - sent));
      sent += part.length;
      if (req.write(part)) setImmediate(write);
      else req.once('drain', write);
    };
    req.write(head);
    write();
  });
}

for (const path of ['/v1/documents', '/v1/jobs']) {
  test(`${path}: a file longer than the room left and than any document held is refused before its bytes are read (declared length) or soon after (chunked)`, async () => {
    // 200 KB: within the whole quota (301 KB), past the room (1 KB) and the largest document (100 KB).
    const declared = await sendFile(path, 200 * KB, true, 64 * KB);
    assert.deepEqual([declared.status, declared.code], [429, 'quota_exceeded']);
    assert.equal(declared.sent, 64 * KB, 'refused by its length, before the rest of its bytes');
    // Held once past the bound (1 KB of room, 100 KB the largest document): refused with the body unfinished.
    const chunked = await sendFile(path, FILE_BYTES, false, 128 * KB);
    assert.deepEqual([chunked.status, chunked.code], [429, 'quota_exceeded']);
    assert.ok(chunked.sent < 2048 * KB, `refused as its bytes passed the bound, ${chunked.sent} bytes sent of ${FILE_BYTES}`);
  });
}

test('a file no longer than a document the tenant holds is still read to its end: held content costs nothing', async () => {
  const answer = await sendFile('/v1/documents', 90 * KB, false);
  assert.deepEqual([answer.status, answer.code, answer.sent], [429, 'quota_exceeded', 90 * KB], 'new bytes: refused once counted');
});

test('the tenant\'s largest document sent again in a job whose fields are long (a template) is taken: its fields are not counted as file bytes', async () => {
  const body = new FormData();
  body.append('pipeline', 'report');
  body.append('options', JSON.stringify({ template: `<p>{{ source }}</p>${'x'.repeat(16 * KB)}` }));
  body.append('file', new Blob([held], { type: 'application/pdf' }), 'again.pdf');
  const answer = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${keys.a}` }, body });
  assert.equal(answer.status, 202, await answer.clone().text());
});

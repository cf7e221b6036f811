// A tus request refused before its bytes are taken (at creation: too large, over the storage
// quota; at a PATCH: over the quota, past the upload's length) is answered as soon as that is
// known and its connection closed: the server does not read the rest of the body first.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { issueTenantKeys, type TenantKeys } from '../support/tenant-keys.ts';

const MIB = 1024 * 1024;
/** What each refused request would send whole. */
const BODY_BYTES = 256 * MIB;
/** More than the kernel's buffers on both ends take before the server reads a byte. */
const BUFFERED_AT_MOST = 32 * MIB;

let dir: string;
let ream: Ream;
let server: RunningServer;
let keys: TenantKeys;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-tus-early-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, maxFileBytes: 4 * MIB, uploadsDir: join(dir, 'uploads') });
  keys = await issueTenantKeys(ream);
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

async function setStorageQuota(bytes: number | null): Promise<void> {
  const answer = await fetch(`${server.url}/v1/tenants/tenant-a/quotas`, {
    method: 'PUT', headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ storageBytes: bytes }),
  });
  assert.equal(answer.status, 200, await answer.text());
}

interface Sent {
  status: number;
  code: string;
  /** Body bytes written when the answer came. */
  answeredAt: number;
  /** Body bytes written when the connection ended. */
  closedAt: number;
}

/** Sends a body of BODY_BYTES as fast as the server takes it (chunked: with no Content-Length), until the connection ends. */
function send(url: string, method: string, headers: Record<string, string>, chunked = false): Promise<Sent> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answer: Omit<Sent, 'closedAt'> | undefined;
    const req = request(url, {
      method,
      agent: false,
      headers: { 'tus-resumable': '1.0.0', authorization: `Bearer ${keys.a}`, 'content-type': 'application/offset+octet-stream', ...headers, ...(chunked ? {} : { 'content-length': BODY_BYTES }) },
    }, (response) => {
      const parts: Buffer[] = [];
      const answeredAt = sent;
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => {
        answer = { status: response.statusCode ?? 0, code: (JSON.parse(Buffer.concat(parts).toString()) as { code: string }).code, answeredAt };
      });
    });
    // The connection ends (EPIPE, reset or close) once the server has answered.
    const ended = (): void => void setTimeout(() => (answer === undefined ? reject(new Error(`no answer, ${sent} bytes sent`)) : resolve({ ...answer, closedAt: sent })), 200);
    req.once('error', ended);
    req.once('close', ended);
    const piece = Buffer.alloc(MIB, 0x25);
    const write = (): void => {
      while (!req.destroyed) {
        sent += MIB;
        if (sent >= BODY_BYTES) {
          req.end(piece);
          return;
        }
        if (!req.write(piece)) {
          req.once('drain', write);
          return;
        }
      }
    };
    write();
  });
}

function assertEarly(sent: Sent, status: number, code: string): void {
  assert.deepEqual([sent.status, sent.code], [status, code]);
  assert.ok(sent.closedAt <= BUFFERED_AT_MOST, `the connection ended after ${sent.closedAt} bytes of ${BODY_BYTES}, answered after ${sent.answeredAt}`);
}

test('a creation over the size limit, or over the storage quota, is answered and closed before its body is read', async () => {
  assertEarly(await send(`${server.url}/v1/uploads`, 'POST', { 'upload-length': String(BODY_BYTES) }), 413, 'file_too_large');
  await setStorageQuota(MIB);
  try {
    // Chunked: a Content-Length past the Upload-Length is refused as too large before the quota is asked.
    assertEarly(await send(`${server.url}/v1/uploads`, 'POST', { 'upload-length': String(2 * MIB) }, true), 429, 'quota_exceeded');
  } finally {
    await setStorageQuota(null);
  }
});

test('a PATCH over the storage quota, or past its upload\'s length, is answered and closed before its body is read', async () => {
  const created = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { 'tus-resumable': '1.0.0', authorization: `Bearer ${keys.a}`, 'upload-length': String(3 * MIB) } });
  assert.equal(created.status, 201);
  const url = new URL(created.headers.get('location') ?? '', `${server.url}/v1/uploads`).toString();
  assertEarly(await send(url, 'PATCH', { 'upload-offset': '0' }), 413, 'file_too_large');
  await setStorageQuota(MIB);
  try {
    assertEarly(await send(url, 'PATCH', { 'upload-offset': '0' }), 429, 'quota_exceeded');
  } finally {
    await setStorageQuota(null);
  }
});

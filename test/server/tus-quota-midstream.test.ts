// A PATCH carrying an upload's whole body is checked against its tenant's storage quota while its
// bytes come, not only at its start and end: a quota taken meanwhile (here lowered by an admin)
// stops it within a few MiB, with the offset it reached kept for a resume.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { QUOTA_RECHECK_BYTES } from '../../src/server/uploads/quota-recheck.ts';
import { issueTenantKeys, type TenantKeys } from '../support/tenant-keys.ts';

const MIB = 1024 * 1024;
/** The upload's declared length: many times what the server takes between two checks. */
const FILE_BYTES = 64 * MIB;
const TUS = { 'tus-resumable': '1.0.0' };

let dir: string;
let ream: Ream;
let server: RunningServer;
let keys: TenantKeys;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-tus-quota-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, uploadsDir: join(dir, 'uploads') });
  keys = await issueTenantKeys(ream);
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

async function setStorageQuota(bytes: number): Promise<void> {
  const answer = await fetch(`${server.url}/v1/tenants/tenant-a/quotas`, {
    method: 'PUT', headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ storageBytes: bytes }),
  });
  assert.equal(answer.status, 200, await answer.text());
}

/** The offset GET tells (a HEAD would take the upload from the PATCH in progress, which then ends). */
async function uploadOffset(url: string): Promise<number> {
  const answer = await fetch(url, { headers: { authorization: `Bearer ${keys.a}` } });
  assert.equal(answer.status, 200);
  return ((await answer.json()) as { offset: number }).offset;
}

interface Answer {
  status: number;
  code: string | undefined;
  offset: number;
  sent: number;
}

/**
 * One PATCH of the whole file, written 1 MiB at a time as fast as the server takes it until it
 * answers; `midway` runs once `pauseAt` bytes are on the server (the rest waits for it).
 */
function patchWhole(url: string, pauseAt: number, midway: () => Promise<void>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(url, {
      method: 'PATCH',
      agent: false,
      headers: { ...TUS, authorization: `Bearer ${keys.a}`, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': FILE_BYTES },
    }, (response) => {
      answered = true;
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => {
        const text = Buffer.concat(parts).toString();
        resolve({
          status: response.statusCode ?? 0,
          code: text === '' ? undefined : (JSON.parse(text) as { code: string }).code,
          offset: Number(response.headers['upload-offset']),
          sent,
        });
      });
    });
    // The server closes the connection once it has answered: a write may fail before the answer is read.
    req.on('error', (error) => setTimeout(() => (answered ? undefined : reject(error)), 1000));
    const piece = Buffer.alloc(MIB, 0x20);
    Buffer.from('%PDF-1.7\n').copy(piece);
    void (async () => {
      while (!answered && sent < FILE_BYTES && !req.destroyed) {
        if (sent === pauseAt) {
          while ((await uploadOffset(url)) < pauseAt) await new Promise((r) => setTimeout(r, 20));
          await midway();
        }
        const part = sent === 0 ? piece : piece.fill(0x20, 0, 16);
        sent += part.length;
        if (!req.write(part)) await Promise.race([once(req, 'drain'), once(req, 'close'), once(req, 'response')]);
      }
      if (!answered && !req.destroyed) req.end();
    })().catch(reject);
  });
}

test('a single PATCH whose tenant\'s quota is taken while it streams is refused within a few MiB, 429 quota_exceeded, its offset kept', { timeout: 120_000 }, async () => {
  await setStorageQuota(FILE_BYTES + 16 * MIB);
  const created = await fetch(`${server.url}/v1/uploads`, {
    method: 'POST',
    headers: { ...TUS, authorization: `Bearer ${keys.a}`, 'upload-length': String(FILE_BYTES), 'upload-metadata': `filename ${Buffer.from('big.pdf').toString('base64')}` },
  });
  assert.equal(created.status, 201, await created.text());
  const url = new URL(created.headers.get('location') ?? '', `${server.url}/v1/uploads`).toString();

  const answer = await patchWhole(url, 2 * MIB, () => setStorageQuota(8 * MIB));

  assert.deepEqual([answer.status, answer.code], [429, 'quota_exceeded']);
  assert.ok(answer.sent <= 2 * MIB + QUOTA_RECHECK_BYTES + 16 * MIB, `${answer.sent} bytes sent of ${FILE_BYTES} before the refusal`);
  assert.ok(answer.offset >= 2 * MIB && answer.offset < FILE_BYTES, `offset ${answer.offset}`);
  assert.equal(await uploadOffset(url), answer.offset, 'the bytes taken are kept: the upload resumes from there');

  // With room again, it resumes from there and ends.
  await setStorageQuota(FILE_BYTES + 16 * MIB);
  const rest = await fetch(url, {
    method: 'PATCH',
    headers: { ...TUS, authorization: `Bearer ${keys.a}`, 'upload-offset': String(answer.offset), 'content-type': 'application/offset+octet-stream' },
    body: Buffer.alloc(FILE_BYTES - answer.offset, 0x20),
  });
  assert.equal(rest.status, 204, await rest.text());
  assert.equal(rest.headers.get('upload-offset'), String(FILE_BYTES));
});

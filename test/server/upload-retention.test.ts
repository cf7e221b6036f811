// Unfinished tus uploads expire per tenant, in both modes (files under the data dir; S3 and
// Redis): a real tus client starts an upload for two tenants and stops half-way; the retention
// sweep removes the one of the tenant with a short lifetime, bytes and metadata, records it in
// the audit log, and keeps the other's until its own lifetime has passed.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Upload } from 'tus-js-client';
import type { Ream, RetentionSettings } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { TUS_OBJECT_PREFIX } from '../../src/server/uploads/distributed-storage.ts';
import { MODES, modeAvailable, withModeReam, type Mode } from '../support/modes.ts';
import { issueTenantKeys, type TenantKeys } from '../support/tenant-keys.ts';

const HOUR = 3600_000;
const CHUNK = 64 * 1024;
/** tenant-a keeps unfinished uploads one hour, the admin's tenant (`ops`) one second, everyone else two days. */
const retention: RetentionSettings = { uploadsHours: 48, uploadTenants: { 'tenant-a': 1, ops: 1 / 3600 } };

interface Setup {
  ream: Ream;
  server: RunningServer;
  keys: TenantKeys;
  /** Names of what the upload storage holds (files embedded, object keys under `uploads/` distributed). */
  stored(): Promise<string[]>;
}

async function withServer(mode: Mode, use: (setup: Setup) => Promise<void>): Promise<void> {
  await withModeReam(mode, { work: false, retention }, async ({ ream, s3 }) => {
    let stored = async (): Promise<string[]> => readdir(join(ream.dataDir, 'uploads', 'files')).catch(() => []);
    if (s3) {
      const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials: s3.credentials, forcePathStyle: true });
      stored = async () => ((await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: TUS_OBJECT_PREFIX }))).Contents ?? []).map((object) => object.Key ?? '');
    }
    const server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
    try {
      await use({ ream, server, keys: await issueTenantKeys(ream), stored });
    } finally {
      await server.close();
    }
  });
}

/** Starts a tus upload with tus-js-client and stops after its first chunk: the upload's id. */
function startUpload(server: RunningServer, key: string, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const upload: Upload = new Upload(bytes, {
      endpoint: `${server.url}/v1/uploads`,
      chunkSize: CHUNK,
      retryDelays: null,
      headers: { authorization: `Bearer ${key}` },
      metadata: { filename: 'half.pdf' },
      onChunkComplete() {
        upload.abort().then(() => resolve((upload.url ?? '').split('/').pop() ?? ''), reject);
      },
      onError: reject,
    });
    upload.start();
  });
}

async function uploadStatus(server: RunningServer, key: string, id: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/v1/uploads/${id}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

for (const mode of MODES) {
  test(`an unfinished upload goes after its tenant's upload lifetime, another tenant's stays (${mode})`, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withServer(mode, async (setup) => {
      const { ream, server, keys } = setup;
      const stored = () => setup.stored();
      const bytes = Buffer.alloc(4 * CHUNK, 7);
      const started = Date.now();
      const [a, b] = [await startUpload(server, keys.a, bytes), await startUpload(server, keys.b, bytes)];
      const before = await uploadStatus(server, keys.a, a);
      assert.equal(before.body.status, 'uploading', JSON.stringify(before.body));
      assert.equal(before.body.offset, CHUNK);
      const expiresA = Date.parse(String(before.body.expiresAt));
      assert.ok(expiresA >= started + HOUR && expiresA <= Date.now() + HOUR, `tenant-a's upload expires an hour after creation: ${String(before.body.expiresAt)}`);
      assert.ok(Date.parse(String((await uploadStatus(server, keys.b, b)).body.expiresAt)) >= started + 48 * HOUR, 'tenant-b has the default, 48 hours');
      assert.ok((await stored()).some((name) => name.includes(a)), 'tenant-a\'s partial upload is stored');

      assert.equal((await ream.sweepRetention(Date.now())).uploads, 0, 'nothing has expired yet');
      const sweep = await ream.sweepRetention(Date.now() + 2 * HOUR);
      assert.deepEqual({ uploads: sweep.uploads, uploadBytes: sweep.uploadBytes }, { uploads: 1, uploadBytes: CHUNK });
      assert.equal((await uploadStatus(server, keys.a, a)).status, 404, 'tenant-a\'s upload is gone');
      const head = await fetch(`${server.url}/v1/uploads/${a}`, { method: 'HEAD', headers: { authorization: `Bearer ${keys.a}`, 'tus-resumable': '1.0.0' } });
      assert.equal(head.status, 404, 'and tus no longer knows it');
      assert.deepEqual((await stored()).filter((name) => name.includes(a)), [], 'its bytes and metadata went from the storage');
      const kept = await uploadStatus(server, keys.b, b);
      assert.equal(kept.body.status, 'uploading', 'tenant-b\'s upload stays');
      assert.equal(kept.body.offset, CHUNK);

      const [entry] = await ream.listAudit({ action: 'retention.delete', limit: 10 });
      assert.equal(entry?.target, a, 'the removal is in the audit log');
      assert.equal(entry.tenantId, 'tenant-a');
      const details = entry.details as { kind?: string; keptHours?: number };
      assert.equal(details.kind, 'upload');
      assert.equal(details.keptHours, 1);

      assert.equal((await ream.sweepRetention(Date.now() + 49 * HOUR)).uploads, 1, 'tenant-b\'s goes after its own 48 hours');
      assert.deepEqual(await stored(), [], 'nothing is left of either');

      // Past its tenant's lifetime, an upload is gone for the client before any sweep: ops keeps them a second.
      const late = await startUpload(server, keys.admin, bytes);
      await sleep(1500);
      const patch = await fetch(`${server.url}/v1/uploads/${late}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${keys.admin}`, 'tus-resumable': '1.0.0', 'upload-offset': String(CHUNK), 'content-type': 'application/offset+octet-stream' },
        body: bytes.subarray(CHUNK, 2 * CHUNK),
      });
      assert.equal(patch.status, 404, 'an expired upload takes no more bytes');
      assert.equal((await uploadStatus(server, keys.admin, late)).status, 404);
      assert.deepEqual((await stored()).filter((name) => name.includes(late)), [], 'and it went from the storage');
      const removals = await ream.listAudit({ action: 'retention.delete', limit: 10 });
      assert.ok(removals.some((removal) => removal.target === late && (removal.details as { kind?: string }).kind === 'upload'), 'audited as a sweep\'s removal is');
    });
  });
}

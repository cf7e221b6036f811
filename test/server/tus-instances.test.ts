// One upload through two server instances of a distributed deployment: the end of an upload on
// one and its termination (DELETE) on the other are one at a time, as within one instance.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { startServer } from '../../src/server/app.ts';
import { dripPatch } from '../support/drip-patch.ts';
import { makePdf } from '../support/make-pdf.ts';
import { modeAvailable, withModeReam } from '../support/modes.ts';
import { TEST_REDIS_URL } from '../support/services.ts';

const TUS = { 'tus-resumable': '1.0.0' };

void test('a DELETE on instance B while a PATCH on instance A streams the last bytes ends the upload: after its 204 the upload is not found', { timeout: 120_000 }, async (t) => {
  if (!modeAvailable(t, 'distributed')) return;
  await withModeReam('distributed', { work: false }, async ({ ream, prefix }) => {
    // Each startServer over a distributed ream has its own tus locker and state, as two processes would.
    const [a, b] = [await startServer({ ream, host: '127.0.0.1', port: 0 }), await startServer({ ream, host: '127.0.0.1', port: 0 })];
    const redis = new Redis(TEST_REDIS_URL);
    const subscriber = new Redis(TEST_REDIS_URL);
    try {
      const bytes = Buffer.concat([Buffer.from(await makePdf({ pages: ['deleted on the other instance'] })), Buffer.alloc(1_000_000, 0x20)]);
      const created = await fetch(`${a.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, 'upload-length': String(bytes.length) } });
      assert.equal(created.status, 201, await created.clone().text());
      const id = new URL(created.headers.get('location') ?? '', a.url).pathname.split('/').pop() ?? '';
      // The DELETE comes while the PATCH holds the upload, whatever the load: sent once the PATCH's
      // lock is seen in Redis, and the PATCH's last bytes held back until the DELETE is seen
      // waiting for that lock (it asks its holder to let go) or has answered without waiting.
      const channel = `${prefix}:tus:lock-release`;
      const deleteWaits = new Promise<void>((resolve) => {
        subscriber.on('message', (from: string, asked: string) => {
          if (from === channel && asked === id) resolve();
        });
      });
      await subscriber.subscribe(channel);
      let sendLastPart = (): void => undefined;
      const lastPart = new Promise<void>((resolve) => (sendLastPart = resolve));
      const patched = dripPatch(`${a.url}/v1/uploads/${id}`, bytes, TUS, lastPart);
      const lockSeenBy = Date.now() + 30_000;
      while ((await redis.exists(`${prefix}:tus:lock:${id}`)) === 0) {
        assert.ok(Date.now() < lockSeenBy, 'the PATCH took the upload\'s lock');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const deleted = fetch(`${b.url}/v1/uploads/${id}`, { method: 'DELETE', headers: TUS });
      void Promise.race([deleteWaits, deleted]).finally(sendLastPart);
      assert.equal(await patched, 204, 'the PATCH had its bytes stored before the DELETE took the upload');
      assert.equal((await deleted).status, 204);
      // The record goes just after the answer: looked for a moment, on both instances.
      let statuses: number[] = [];
      for (let i = 0; i < 40; i++, await new Promise((resolve) => setTimeout(resolve, 50))) {
        statuses = [(await fetch(`${a.url}/v1/uploads/${id}`)).status, (await fetch(`${b.url}/v1/uploads/${id}`)).status];
        if (statuses.every((status) => status === 404)) break;
      }
      assert.deepEqual(statuses, [404, 404], 'the deleted upload is not found');
    } finally {
      redis.disconnect();
      subscriber.disconnect();
      await a.close();
      await b.close();
    }
  });
});

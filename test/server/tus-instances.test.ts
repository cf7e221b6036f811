// One upload through two server instances of a distributed deployment: the end of an upload on
// one and its termination (DELETE) on the other are one at a time, as within one instance.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer } from '../../src/server/app.ts';
import { dripPatch } from '../support/drip-patch.ts';
import { makePdf } from '../support/make-pdf.ts';
import { modeAvailable, withModeReam } from '../support/modes.ts';

const TUS = { 'tus-resumable': '1.0.0' };

void test('a DELETE on instance B while a PATCH on instance A streams the last bytes ends the upload: after its 204 the upload is not found', { timeout: 120_000 }, async (t) => {
  if (!modeAvailable(t, 'distributed')) return;
  await withModeReam('distributed', { work: false }, async ({ ream }) => {
    // Each startServer over a distributed ream has its own tus locker and state, as two processes would.
    const [a, b] = [await startServer({ ream, host: '127.0.0.1', port: 0 }), await startServer({ ream, host: '127.0.0.1', port: 0 })];
    try {
      const bytes = Buffer.concat([Buffer.from(await makePdf({ pages: ['deleted on the other instance'] })), Buffer.alloc(1_000_000, 0x20)]);
      const created = await fetch(`${a.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, 'upload-length': String(bytes.length) } });
      assert.equal(created.status, 201, await created.clone().text());
      const id = new URL(created.headers.get('location') ?? '', a.url).pathname.split('/').pop() ?? '';
      // The bytes in ten parts over half a second: the DELETE comes while they do.
      const patched = dripPatch(`${a.url}/v1/uploads/${id}`, bytes, TUS);
      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.equal((await fetch(`${b.url}/v1/uploads/${id}`, { method: 'DELETE', headers: TUS })).status, 204);
      assert.equal(await patched, 204, 'the PATCH had its bytes stored before the DELETE took the upload');
      // The record goes just after the answer: looked for a moment, on both instances.
      let statuses: number[] = [];
      for (let i = 0; i < 40; i++, await new Promise((resolve) => setTimeout(resolve, 50))) {
        statuses = [(await fetch(`${a.url}/v1/uploads/${id}`)).status, (await fetch(`${b.url}/v1/uploads/${id}`)).status];
        if (statuses.every((status) => status === 404)) break;
      }
      assert.deepEqual(statuses, [404, 404], 'the deleted upload is not found');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

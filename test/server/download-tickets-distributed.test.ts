// Download tickets across instances: two servers of one distributed deployment keep tickets in
// the deployment's Redis (the coordination store, as WebSocket tickets), so a ticket issued by
// one opens its download on the other, once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { startServer } from '../../src/server/app.ts';
import { modeAvailable, withModeReam } from '../support/modes.ts';
import { makePdf } from '../support/make-pdf.ts';
import { issueTenantKeys } from '../support/tenant-keys.ts';

void test('a ticket made on instance A opens its download on instance B, once', { timeout: 120_000 }, async (t) => {
  if (!modeAvailable(t, 'distributed')) return;
  await withModeReam('distributed', {}, async ({ ream }) => {
    // Each startServer over a distributed ream opens its own Redis coordination, as two processes would.
    const [a, b] = [await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } }), await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } })];
    try {
      const keys = await issueTenantKeys(ream);
      const onA = new ReamClient({ baseUrl: a.url, apiKey: keys.a });
      const job = await onA.submit({ files: [{ name: 'a.pdf', data: await makePdf({ pages: ['one'] }) }] });
      const { url } = await onA.downloadUrl(onA.downloadPath(job.id, { format: 'ndjson' }));
      assert.ok(url.startsWith(`${a.url}/v1/jobs/${job.id}/download?format=ndjson&ticket=dlt_`));
      const onB = url.replace(a.url, b.url);
      const first = await fetch(onB);
      assert.equal(first.status, 200, await first.clone().text());
      assert.match(first.headers.get('content-type') ?? '', /^application\/x-ndjson/);
      await first.arrayBuffer();
      assert.equal((await fetch(onB)).status, 401, 'used up on B');
      assert.equal((await fetch(url)).status, 401, 'and so on A too');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

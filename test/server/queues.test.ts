// GET /v1/queues and the queue gauges of /metrics, in both modes: jobs nobody works on, at two
// priorities, show as queued tasks per level with an age that counts; a tenant's key is refused.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { startServer } from '../../src/server/app.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { makePdf } from '../support/make-pdf.ts';
import { MODES, modeAvailable, withModeReam } from '../support/modes.ts';
import { issueTenantKeys } from '../support/tenant-keys.ts';

for (const mode of MODES) {
  void test(`${mode}: GET /v1/queues counts queued tasks per priority with their age; admins only`, { timeout: 120_000 }, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withModeReam(mode, { work: false }, async ({ ream }) => {
      const server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, metricsHistory: false });
      try {
        const keys = await issueTenantKeys(ream);
        const admin = new ReamClient({ baseUrl: server.url, apiKey: keys.admin });
        const user = new ReamClient({ baseUrl: server.url, apiKey: keys.a });
        assert.deepEqual(await admin.queues(), [], 'an empty queue has no levels');

        const pdf = (text: string): Promise<Uint8Array> => makePdf({ pages: [text] });
        const submittedAt = Date.now();
        await user.submit({ priority: 'low', files: [{ name: 'low.pdf', data: await pdf('low') }] });
        await admin.submit({ priority: 'critical', files: [{ name: 'a.pdf', data: await pdf('a') }, { name: 'b.pdf', data: await pdf('b') }] });
        await sleep(50); // the age must grow past what the clock's resolution could blur

        const levels = await admin.queues();
        assert.deepEqual(levels.map(({ priority, level, queued, delayed, running }) => ({ priority, level, queued, delayed, running })), [
          { priority: 'critical', level: 20, queued: 2, delayed: 0, running: 0 },
          { priority: 'low', level: 0, queued: 1, delayed: 0, running: 0 },
        ]);
        for (const level of levels) {
          assert.ok(level.oldestAgeMs !== null && level.oldestAgeMs >= 50, `${level.priority} has waited: ${level.oldestAgeMs}`);
          assert.ok(level.oldestAgeMs <= Date.now() - submittedAt + 1_000, `and not longer than since the submit: ${level.oldestAgeMs}`);
          assert.ok(Date.parse(level.oldestQueuedAt ?? '') >= submittedAt - 1_000);
        }

        const scrape = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${keys.admin}` } })).text();
        assert.match(scrape, /^ream_queue_depth\{priority="critical"\} 2$/m);
        assert.match(scrape, /^ream_queue_depth\{priority="low"\} 1$/m);
        assert.match(scrape, /^ream_queue_depth\{priority="high"\} 0$/m, 'a level nothing waits at is 0, not missing');
        assert.match(scrape, /^ream_queue_oldest_task_age_seconds\{priority="high"\} 0$/m);
        const age = /^ream_queue_oldest_task_age_seconds\{priority="low"\} ([\d.e-]+)$/m.exec(scrape);
        assert.ok(age && Number(age[1]) >= 0.05, `the low level's age in seconds: ${age?.[1]}`);

        await rejectsWithCode(user.queues(), 'forbidden');
      } finally {
        await server.close();
      }
    });
  });
}

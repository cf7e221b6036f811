import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { JobView } from '../../src/runtime/job-view.ts';
import { startReceiver } from '../runtime/webhook-receiver.ts';
import { startCluster } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';

const missing = (await redisUnavailable()) ?? (await postgresUnavailable());

void test('distributed: a job submitted to the server is announced by a `ream worker`, once, retried after a 500', { timeout: 900_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const receiver = await startReceiver((n) => (n === 1 ? 500 : 204));
  // The server takes no work: only the two workers can deliver the webhook. The receiver is on
  // loopback: the server (at submit) and the workers (at delivery) must allow it.
  const allowLoopback = ['--webhook-allow-cidr', '127.0.0.0/8'];
  const cluster = await startCluster({ workers: 2, workerArgs: ['--concurrency', '2', '--threads', '1', ...allowLoopback], serverArgs: allowLoopback }).catch(async (error: unknown) => {
    await receiver.close(); // its open socket would keep this file's process alive
    throw error;
  });
  try {
    const body = new FormData();
    body.append('webhook', JSON.stringify({ url: receiver.url, secret: 'distributed' }));
    body.append('file', new Blob([await makePdf({ pages: numberedPages('hook', 3) })], { type: 'application/pdf' }), 'hook.pdf');
    const response = await fetch(`${cluster.server.url}/v1/jobs`, { method: 'POST', body });
    const text = await response.text();
    assert.equal(response.status, 202, text);
    const job = JSON.parse(text) as JobView;
    await receiver.received(2);
    await sleep(1_500); // a duplicate from the other worker would have arrived by now
    assert.deepEqual(receiver.deliveries.map((d) => [d.event, d.job.id, d.job.status]), [
      ['job.completed', job.id, 'succeeded'],
      ['job.completed', job.id, 'succeeded'],
    ], cluster.output());
    assert.match(String(receiver.deliveries[1]?.headers['ream-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
  } finally {
    await cluster.stop();
    await receiver.close();
  }
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import type { JobView } from '../../src/runtime/job-view.ts';
import { webhookQueueJobId } from '../../src/runtime/task-kinds.ts';
import type { WebhookSettings } from '../../src/runtime/webhook-delivery.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { startReceiver, type Receiver } from '../runtime/webhook-receiver.ts';
import { answerOf, assertProblem } from '../support/problem.ts';
import { stubResolver } from '../support/stub-resolver.ts';

/*
 * Webhooks may not reach private, loopback, link-local… addresses. Every hostile target here is
 * either an IP literal refused before any connection, or a name answered by a stubbed resolver;
 * whatever would be connected to if a check failed is a listener of this test on 127.0.0.1.
 */

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-ssrf-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A listener on 127.0.0.1 that only counts connections: where a leaked webhook would land. */
async function startSentinel(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server: Server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function startApi(name: string, webhooks: WebhookSettings): Promise<{ ream: Ream; server: RunningServer }> {
  const ream = await createReam({ dataDir: join(dir, name), threads: 1, webhooks: { retryBaseMs: 20, retryMaxMs: 50, ...webhooks } });
  return { ream, server: await startServer({ ream, host: '127.0.0.1', port: 0 }) };
}

function multipart(webhook: unknown): FormData {
  const body = new FormData();
  body.append('webhook', JSON.stringify(webhook));
  body.append('file', new Blob(['a page of text\n'], { type: 'text/plain' }), 'hook.txt');
  return body;
}

/** Resolves with the warning that says the delivery of `jobId` was given up. */
function givenUp(jobId: () => string): Promise<string> {
  return new Promise((resolve) => {
    const listener = (warning: Error): void => {
      if (!warning.message.includes('gave up delivering') || !warning.message.includes(jobId())) return;
      process.off('warning', listener);
      resolve(warning.message);
    };
    process.on('warning', listener);
  });
}

describe('webhook SSRF: the default policy (public addresses only)', () => {
  let api: { ream: Ream; server: RunningServer };
  let sentinel: Awaited<ReturnType<typeof startSentinel>>;
  const resolver = stubResolver({
    localhost: ['127.0.0.1', '::1'],
    'hooks.example.test': ['10.0.0.5'],
    'metadata.example.test': ['169.254.169.254'],
    'mixed.example.test': { check: ['93.184.216.34', 'fd00::1'], connect: [] },
    // Public when the job is submitted, loopback by the time it is delivered (DNS rebinding).
    'rebind.example.test': { check: ['93.184.216.34'], connect: ['127.0.0.1'] },
  });
  before(async () => {
    sentinel = await startSentinel();
    api = await startApi('strict', { lookup: resolver.lookup });
  });
  after(async () => {
    await api.server.close();
    await api.ream.close();
    await sentinel.close();
  });

  test('every hostile target is refused at submit with validation_failed naming the rule, and no job is made', async () => {
    const port = sentinel.port;
    const targets: Array<[string, RegExp]> = [
      [`${api.server.url}/v1/jobs`, /names 127\.0\.0\.1, a loopback address/], // the API itself
      [`http://127.0.0.1:${port}/hook`, /names 127\.0\.0\.1, a loopback address/],
      [`http://localhost:${port}/hook`, /resolves to 127\.0\.0\.1, a loopback address/],
      [`http://0.0.0.0:${port}/`, /names 0\.0\.0\.0, the unspecified address/],
      [`http://2130706433:${port}/`, /names 127\.0\.0\.1, a loopback address/],
      [`http://0x7f.0.0.1:${port}/`, /names 127\.0\.0\.1, a loopback address/],
      [`http://[::1]:${port}/`, /names ::1, a loopback address/],
      [`http://[::ffff:127.0.0.1]:${port}/`, /names ::ffff:7f00:1, a loopback address/],
      ['http://169.254.169.254/latest/meta-data/', /names 169\.254\.169\.254, a link-local address/],
      ['http://[fd00:ec2::254]/latest/meta-data/', /names fd00:ec2::254, a unique-local \(private\) address/],
      ['https://hooks.example.test/hook', /resolves to 10\.0\.0\.5, a private address/],
      ['https://metadata.example.test/', /resolves to 169\.254\.169\.254, a link-local address/],
      ['https://mixed.example.test/', /resolves to fd00::1, a unique-local \(private\) address/],
      ['https://unknown.example.test/', /host unknown\.example\.test does not resolve \(ENOTFOUND\)/],
    ];
    // A stored document, for JSON submissions.
    const upload = new FormData();
    upload.append('file', new Blob(['stored text\n'], { type: 'text/plain' }), 'stored.txt');
    const stored = (await (await fetch(`${api.server.url}/v1/documents`, { method: 'POST', body: upload })).json()) as { items: Array<{ id: string }> };
    const documents = [stored.items[0]?.id ?? ''];
    for (const [url, reason] of targets) {
      const json = await fetch(`${api.server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ documents, webhook: { url } }) });
      const problem = assertProblem(await answerOf(json), 400, 'validation_failed');
      assert.match(problem.detail, reason, url);
      assert.match(problem.detail, /webhooks may not target private, loopback, link-local or other non-public addresses|does not resolve/, url);
      const form = await fetch(`${api.server.url}/v1/jobs`, { method: 'POST', body: multipart({ url, secret: 's' }) });
      assert.match(assertProblem(await answerOf(form), 400, 'validation_failed').detail, reason, `multipart ${url}`);
    }
    const jobs = (await (await fetch(`${api.server.url}/v1/jobs`)).json()) as { items: JobView[] };
    assert.deepEqual(jobs.items, [], 'no job was made');
    assert.equal(sentinel.connections(), 0, 'nothing connected to the loopback targets');
  });

  test('DNS rebinding: a name that was public at submit and is loopback at delivery is given up without connecting', async () => {
    let jobId = '';
    const warning = givenUp(() => jobId);
    const response = await fetch(`${api.server.url}/v1/jobs`, { method: 'POST', body: multipart({ url: `http://rebind.example.test:${sentinel.port}/hook` }) });
    const text = await response.text();
    assert.equal(response.status, 202, text);
    jobId = (JSON.parse(text) as JobView).id;
    const message = await warning;
    assert.match(message, /webhook of job .* to http:\/\/rebind\.example\.test:\d+: webhook\.url resolves to 127\.0\.0\.1, a loopback address/);
    const counts = await api.ream.engine.ports.queue.counts(webhookQueueJobId(jobId));
    assert.equal(counts.failed, 1);
    assert.equal(counts.completed + counts.queued + counts.leased, 0);
    // One question at submit, one at the delivery's connect: refused once, never retried.
    assert.deepEqual(resolver.asked.filter((question) => question.endsWith(' rebind.example.test')), ['check rebind.example.test', 'connect rebind.example.test']);
    assert.equal(sentinel.connections(), 0, 'the rebound address was never connected to');
    assert.equal((await api.ream.getJob(jobId))?.status, 'succeeded', 'the job is untouched');
  });
});

describe('webhook SSRF: an allow-list for internal receivers', () => {
  let api: { ream: Ream; server: RunningServer };
  let receiver: Receiver;
  const resolver = stubResolver({ 'hooks.internal.test': ['127.0.0.1'], 'other.internal.test': ['10.0.0.5'] });
  before(async () => {
    receiver = await startReceiver(() => 204);
    api = await startApi('allow-loopback', { allowPrivate: ['127.0.0.0/8'], lookup: resolver.lookup });
  });
  after(async () => {
    await api.server.close();
    await api.ream.close();
    await receiver.close();
  });

  test('allow-listed loopback receivers get their webhooks, by IP and by name (the name kept in Host)', async () => {
    const port = new URL(receiver.url).port;
    for (const url of [receiver.url, `http://hooks.internal.test:${port}/hook`]) {
      const response = await fetch(`${api.server.url}/v1/jobs`, { method: 'POST', body: multipart({ url, secret: 'internal' }) });
      assert.equal(response.status, 202, await response.clone().text());
    }
    await receiver.received(2);
    assert.deepEqual(receiver.deliveries.map((d) => [d.event, d.headers.host]).sort(), [
      ['job.completed', `127.0.0.1:${port}`],
      ['job.completed', `hooks.internal.test:${port}`],
    ]);
  });

  test('outside the allow-list is still refused: private ranges, ::1, link-local', async () => {
    for (const url of ['http://other.internal.test/', 'http://10.0.0.5/', 'http://[::1]/', 'http://169.254.169.254/']) {
      const response = await fetch(`${api.server.url}/v1/jobs`, { method: 'POST', body: multipart({ url }) });
      assertProblem(await answerOf(response), 400, 'validation_failed');
    }
  });

  test('a redirect is not followed: a 3xx is given up after one attempt', async () => {
    const redirecting = await startReceiver(() => 302);
    try {
      let jobId = '';
      const warning = givenUp(() => jobId);
      const response = await fetch(`${api.server.url}/v1/jobs`, { method: 'POST', body: multipart({ url: redirecting.url }) });
      const text = await response.text();
      assert.equal(response.status, 202, text);
      jobId = (JSON.parse(text) as JobView).id;
      assert.match(await warning, /the receiver answered 302/);
      assert.equal(redirecting.deliveries.length, 1, 'one attempt, not retried');
    } finally {
      await redirecting.close();
    }
  });
});

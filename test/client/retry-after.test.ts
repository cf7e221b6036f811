import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ReamClient, ReamHttpError } from '../../src/client/index.ts';
import { retryAfterMs } from '../../src/client/errors.ts';

// `Retry-After` on a 429 or 503: the error carries it, and a reconnecting event stream waits it.

let server: Server;
let baseUrl: string;
/** When each request for the event stream came. */
const eventRequests: number[] = [];

before(async () => {
  server = createServer((request, response) => {
    if (request.url === '/v1/jobs/busy') {
      response.writeHead(429, { 'content-type': 'application/problem+json', 'retry-after': '2' }).end('{"code":"rate_limited","status":429,"detail":"slow down"}');
      return;
    }
    if (request.url === '/v1/jobs/job_1/events') {
      eventRequests.push(Date.now());
      if (eventRequests.length === 1) {
        response.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' }).end('{"code":"unavailable","status":503}');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream' })
        .end(`id: 1\ndata: ${JSON.stringify({ seq: 1, type: 'job.completed', jobId: 'job_1', at: 0, progress: {} })}\n\n`);
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
});

test('a 429 or 503 with Retry-After (seconds or a date) sets retryAfterMs on the error', async () => {
  await assert.rejects(new ReamClient({ baseUrl }).getJob('busy'), (error: unknown) =>
    error instanceof ReamHttpError && error.code === 'rate_limited' && error.retryAfterMs === 2000);
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(retryAfterMs(503, 'Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000);
  assert.equal(retryAfterMs(503, 'soon', now), undefined);
  assert.equal(retryAfterMs(400, '5', now), undefined, 'only where it means "ask again then"');
});

test('events reconnects after a 503 no sooner than its Retry-After', async () => {
  const client = new ReamClient({ baseUrl, reconnectDelayMs: 1 });
  const types: string[] = [];
  for await (const event of client.events('job_1')) types.push(event.type);
  assert.deepEqual(types, ['job.completed']);
  assert.equal(eventRequests.length, 2);
  const [first = 0, second = 0] = eventRequests;
  assert.ok(second - first >= 950, `waited ${second - first} ms, not the 1 s asked`);
});

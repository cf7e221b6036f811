import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ReamClient, type ReamEvent } from '../../src/client/index.ts';

// The SDK against a server that never answers (or answers 503 to every event stream): what an
// abort with a reason of the caller's own makes of each call.

let server: Server;
let client: ReamClient;
const held = new Set<ServerResponse>();

before(async () => {
  server = createServer((request, response) => {
    if (request.url?.endsWith('/events') && request.headers['x-test'] === '503') {
      response.writeHead(503, { 'content-type': 'application/problem+json' }).end('{"code":"unavailable","status":503}');
      return;
    }
    if (request.url?.endsWith('/events')) response.writeHead(200, { 'content-type': 'text/event-stream' }).write(':\n\n');
    held.add(response); // never answered (or never ended): only an abort ends the call
    response.on('close', () => held.delete(response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new ReamClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});
after(async () => {
  for (const response of held) response.destroy();
  await new Promise((resolve) => server.close(resolve));
});

async function drain(events: AsyncIterable<ReamEvent>): Promise<void> {
  for await (const event of events) void event;
}

/** Starts `call` with a fresh signal, aborts it with `reason` a moment later; answers the rejection. */
async function abortedWith(reason: unknown, call: (signal: AbortSignal) => Promise<unknown>): Promise<unknown> {
  const controller = new AbortController();
  const pending = call(controller.signal);
  setTimeout(() => controller.abort(reason), 50);
  return pending.then(() => assert.fail('the call ended without its abort'), (error: unknown) => error);
}

describe('ReamClient aborted with a reason of the caller\'s own', () => {
  const calls: Record<string, (signal: AbortSignal) => Promise<unknown>> = {
    getJob: (signal) => client.getJob('job_1', signal),
    listJobs: (signal) => client.listJobs({ signal }),
    cancel: (signal) => client.cancel('job_1', signal),
    cancelDocument: (signal) => client.cancelDocument('job_1', 'doc_1', signal),
    retry: (signal) => client.retry('job_1', signal),
    results: (signal) => client.results('job_1', signal),
    events: (signal) => drain(client.events('job_1', { signal })),
  };

  test('rejects with that reason, a string or an Error, never a retryable io_error', async () => {
    for (const [name, call] of Object.entries(calls)) {
      assert.equal(await abortedWith('bye', call), 'bye', name);
      const reason = new Error('x');
      assert.equal(await abortedWith(reason, call), reason, name);
    }
  });

  test('events waiting to reconnect (after a 503) rejects with the reason too', async () => {
    const reconnecting = new ReamClient({
      baseUrl: client.baseUrl,
      reconnectDelayMs: 60_000,
      fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), 'x-test': '503' } }),
    });
    assert.equal(await abortedWith('bye', (signal) => drain(reconnecting.events('job_1', { signal }))), 'bye');
  });
});

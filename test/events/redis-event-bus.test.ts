import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisEventBus } from '../../src/events/redis-event-bus.ts';
import type { ReamEvent } from '../../src/events/types.ts';
import { eventsConformance } from '../conformance/events.ts';
import { TEST_REDIS_URL, redisUnavailable, uniqueName } from '../support/services.ts';
import { isCI } from '../support/env.ts';

const unavailable = await redisUnavailable();
const skip = unavailable !== undefined && !isCI ? `skipped: ${unavailable} is not available` : false;

eventsConformance(
  'RedisEventBus',
  async () => {
    const bus = await RedisEventBus.open({ url: TEST_REDIS_URL, prefix: uniqueName('ream_events'), onListenerError: () => undefined });
    return { bus, cleanup: () => bus.close() };
  },
  { unavailable },
);

function event(jobId: string, tenantId: string, seq: number): ReamEvent {
  return {
    seq, type: 'job.progress', jobId, tenantId, at: seq,
    progress: { documentsDone: 0, documentsTotal: 1, pagesDone: seq, pagesTotal: 10, percent: seq * 10, etaSeconds: null },
  };
}

async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

void test('RedisEventBus: what one instance publishes reaches the other instance\'s subscribers, once each', { skip }, async () => {
  const prefix = uniqueName('ream_events');
  const a = await RedisEventBus.open({ url: TEST_REDIS_URL, prefix });
  const b = await RedisEventBus.open({ url: TEST_REDIS_URL, prefix });
  const stranger = await RedisEventBus.open({ url: TEST_REDIS_URL, prefix: uniqueName('ream_events') });
  try {
    const all: string[] = [];
    const job: string[] = [];
    const tenant: string[] = [];
    const foreign: string[] = [];
    const key = (e: ReamEvent): string => `${e.jobId}#${e.seq}`;
    b.subscribe({}, (e) => all.push(key(e)));
    b.subscribe({ jobId: 'j1' }, (e) => job.push(key(e)));
    b.subscribe({ tenantId: 't2' }, (e) => tenant.push(key(e)));
    stranger.subscribe({}, (e) => foreign.push(key(e)));
    await Promise.all([b.ready(), stranger.ready()]);
    const sent = [event('j1', 't1', 1), event('j2', 't2', 1), event('j1', 't1', 2), event('j1', 't1', 3), event('j3', 't2', 1)];
    for (const e of sent) await a.publish(e);
    await until(() => all.length === sent.length, 'delivery to the other instance');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(all, sent.map(key), 'every event once, in publish order');
    assert.deepEqual(job, ['j1#1', 'j1#2', 'j1#3']);
    assert.deepEqual(tenant, ['j2#1', 'j3#1']);
    assert.deepEqual(foreign, [], 'another prefix hears nothing');
  } finally {
    await Promise.all([a.close(), b.close(), stranger.close()]);
  }
});

void test('RedisEventBus: close ends both connections; publishing afterwards is refused', { skip }, async () => {
  const bus = await RedisEventBus.open({ url: TEST_REDIS_URL, prefix: uniqueName('ream_events') });
  bus.subscribe({ jobId: 'j' }, () => undefined);
  await bus.ready();
  await bus.close();
  await assert.rejects(bus.publish(event('j', 't', 1)), { code: 'internal' });
  await bus.close();
});

void test('RedisEventBus.open names the Redis that did not answer, without its password', async () => {
  await assert.rejects(RedisEventBus.open({ url: 'redis://:sekret@127.0.0.1:9/0' }), (error: unknown) => {
    const { code, message } = error as { code?: string; message: string };
    return code === 'unavailable' && message.includes('127.0.0.1:9') && /ECONNREFUSED/.test(message) && !message.includes('sekret');
  });
});

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ERRORS } from '@tus/utils';
import { Redis } from 'ioredis';
import { RedisLocker } from '../../src/server/uploads/redis-locker.ts';
import { isCI } from '../support/env.ts';
import { TEST_REDIS_URL, redisUnavailable, uniqueName } from '../support/services.ts';

const unavailable = await redisUnavailable();
const skip = unavailable !== undefined && !isCI ? `skipped: ${unavailable} is not available` : false;

const connections: Redis[] = [];
after(async () => {
  await Promise.all(connections.map((connection) => connection.quit().catch(() => undefined)));
});

/** A locker with connections of its own, as one server instance has. */
async function instance(prefix: string, options: { acquireTimeoutMs?: number; ttlMs?: number } = {}): Promise<RedisLocker> {
  const redis = new Redis(TEST_REDIS_URL);
  const subscriber = new Redis(TEST_REDIS_URL);
  connections.push(redis, subscriber);
  const locker = new RedisLocker({ redis, subscriber, prefix, retryMs: 10, ...options });
  await locker.ready();
  return locker;
}

const never = new AbortController().signal;

void test('RedisLocker: a request on another instance makes the holder let go, then gets the lock', { skip }, async () => {
  const prefix = uniqueName('ream_lock');
  const [a, b] = [await instance(prefix), await instance(prefix)];
  const held = a.newLock('upload-1');
  let asked = 0;
  await held.lock(never, async () => {
    asked += 1;
    await held.unlock(); // what a PATCH does when told to stop: end, and unlock
  });
  const started = Date.now();
  const next = b.newLock('upload-1');
  await next.lock(never, () => undefined);
  assert.equal(asked, 1, 'the holder on the other instance was asked once');
  // Far sooner than the 30 s it would take the lock to expire or the request to time out.
  assert.ok(Date.now() - started < 20_000);
  await next.unlock();
  const again = a.newLock('upload-1');
  await again.lock(never, () => undefined);
  await again.unlock();
});

void test('RedisLocker: a holder that does not let go makes the other time out; only the holder releases', { skip }, async () => {
  const prefix = uniqueName('ream_lock');
  const [a, b] = [await instance(prefix), await instance(prefix, { acquireTimeoutMs: 200 })];
  const held = a.newLock('upload-2');
  await held.lock(never, () => undefined);
  const stranger = b.newLock('upload-2');
  await assert.rejects(stranger.lock(never, () => undefined), (error: unknown) => error === ERRORS.ERR_LOCK_TIMEOUT);
  await stranger.unlock(); // not the holder: must not free the lock
  await assert.rejects(b.newLock('upload-2').lock(never, () => undefined), (error: unknown) => error === ERRORS.ERR_LOCK_TIMEOUT);
  const stop = new AbortController();
  const waiting = b.newLock('upload-2').lock(stop.signal, () => undefined);
  stop.abort();
  await assert.rejects(waiting, (error: unknown) => error === ERRORS.ERR_LOCK_TIMEOUT, 'an aborted request stops waiting');
  await held.unlock();
  const free = b.newLock('upload-2');
  await free.lock(never, () => undefined);
  await free.unlock();
});

void test('RedisLocker: a held lock is renewed past its TTL; a crashed holder\'s lock expires', { skip }, async () => {
  const prefix = uniqueName('ream_lock');
  // A TTL of seconds, renewed every second: a renewal has two seconds to land on a busy machine.
  const a = await instance(prefix, { ttlMs: 3_000 });
  const b = await instance(prefix, { ttlMs: 3_000, acquireTimeoutMs: 100 });
  const held = a.newLock('upload-3');
  await held.lock(never, () => undefined);
  await new Promise((resolve) => setTimeout(resolve, 6_500));
  await assert.rejects(b.newLock('upload-3').lock(never, () => undefined), (error: unknown) => error === ERRORS.ERR_LOCK_TIMEOUT, 'still held after 2× TTL');
  await held.unlock();
  // A holder that died (no renewal, no unlock): its key simply expires.
  const deadKey = `${prefix}:tus:lock:upload-4`;
  await a.redis.set(deadKey, 'dead-holder', 'PX', 3_000);
  const late = b.newLock('upload-4');
  await assert.rejects(late.lock(never, () => undefined));
  while ((await a.redis.pttl(deadKey)) !== -2) await new Promise((resolve) => setTimeout(resolve, 50)); // -2: gone
  await late.lock(never, () => undefined);
  await late.unlock();
});

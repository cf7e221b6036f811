import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { KeyedMutex } from '../../src/runtime/keyed-mutex.ts';

test('sections of one key never overlap; other keys run alongside; a throw does not jam the key', async () => {
  const mutex = new KeyedMutex();
  let inside = 0;
  let maxInside = 0;
  const order: string[] = [];
  const section = (name: string, fail = false) => mutex.run('job', async () => {
    inside++;
    maxInside = Math.max(maxInside, inside);
    await sleep(5);
    order.push(name);
    inside--;
    if (fail) throw new Error('boom');
    return name;
  });
  const other = mutex.run('other', async () => { await sleep(1); order.push('other'); });
  const results = await Promise.allSettled([section('a'), section('b', true), section('c'), other]);
  assert.equal(maxInside, 1);
  assert.deepEqual(order, ['other', 'a', 'b', 'c']);
  assert.equal(results[1]?.status, 'rejected');
  assert.equal(await section('d'), 'd');
});

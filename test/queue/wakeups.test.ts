import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Wakeups } from '../../src/queue/wakeups.ts';

void test('Wakeups: every pending time fires in turn, earliest first, whatever the order they came in', async () => {
  const wakeups = new Wakeups();
  const start = Date.now();
  wakeups.notifyAt(start + 200, start);
  wakeups.notifyAt(start + 60, start);
  wakeups.notifyAt(start + 60, start); // duplicates collapse
  const woke: number[] = [];
  for (let i = 0; i < 2; i++) {
    await wakeups.wait(2_000);
    woke.push(Date.now() - start);
  }
  assert.ok((woke[0] ?? 0) >= 50 && (woke[0] ?? 0) < 180, `first wake after ${woke[0]} ms`);
  assert.ok((woke[1] ?? 0) >= 190 && (woke[1] ?? 0) < 1_000, `second wake after ${woke[1]} ms`);
  wakeups.close();
});

void test('Wakeups: notify wakes all waiters; close releases them and later waits return at once', async () => {
  const wakeups = new Wakeups();
  let woken = 0;
  const waits = [wakeups.wait(5_000), wakeups.wait(5_000)].map((p) => p.then(() => (woken += 1)));
  wakeups.notify();
  await Promise.all(waits);
  assert.equal(woken, 2);
  const pending = wakeups.wait(5_000);
  wakeups.close();
  await pending;
  const started = Date.now();
  await wakeups.wait(5_000);
  assert.ok(Date.now() - started < 100);
});

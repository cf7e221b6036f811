import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Wakeups } from '../../src/queue/wakeups.ts';

/** Lets every promise callback that is ready run (setImmediate is not among the mocked timers). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

void test('Wakeups: every pending time fires in turn, earliest first, whatever the order they came in', async (t) => {
  // A mocked clock: the wake-ups are checked to the millisecond, whatever the machine's load.
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const wakeups = new Wakeups();
  const start = Date.now();
  wakeups.notifyAt(start + 200, start);
  wakeups.notifyAt(start + 60, start);
  wakeups.notifyAt(start + 60, start); // duplicates collapse
  const woke: number[] = [];
  const waitOnce = (): Promise<void> => wakeups.wait(2_000).then(() => void woke.push(Date.now() - start));
  const first = waitOnce();
  t.mock.timers.tick(59);
  await settle();
  assert.deepEqual(woke, [], 'woke before the earliest time');
  t.mock.timers.tick(1);
  await first;
  const second = waitOnce();
  t.mock.timers.tick(139);
  await settle();
  assert.deepEqual(woke, [60], 'woke again before the next time (a duplicate 60 fired twice?)');
  t.mock.timers.tick(1);
  await second;
  assert.deepEqual(woke, [60, 200]);
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
  // "At once": settled before the next turn of the event loop, not after a timer.
  const later = await Promise.race([wakeups.wait(5_000).then(() => 'returned'), settle().then(() => 'still waiting')]);
  assert.equal(later, 'returned');
});

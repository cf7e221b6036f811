// The storage quota's remembered count: used only while recent and far from the quota, so a big
// report job does not sum the tenant's files for each file, and near the quota every check counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentStorageUse } from '../../src/runtime/credits/recent-storage-use.ts';

function counter(bytes: number): { count: () => Promise<number>; calls: () => number } {
  let calls = 0;
  return { count: () => Promise.resolve((calls++, bytes)), calls: () => calls };
}

test('far from the quota, one count serves the checks of the next moments, with what was stored since added', async () => {
  const recent = new RecentStorageUse();
  const { count, calls } = counter(1_000);
  assert.equal(await recent.used('t1', 100_000, 10, count), 1_000);
  recent.stored('t1', 10);
  assert.equal(await recent.used('t1', 100_000, 10, count), 1_010);
  assert.equal(calls(), 1, 'counted once');
  assert.equal(await recent.used('t2', 100_000, 10, count), 1_000);
  assert.equal(calls(), 2, 'each tenant counted for itself');
});

test('near the quota, or when the bytes would bring it there, every check counts anew', async () => {
  const recent = new RecentStorageUse();
  const { count, calls } = counter(895);
  await recent.used('t1', 1_000, 10, count);
  await recent.used('t1', 1_000, 10, count);
  assert.equal(calls(), 2, '905 of 1,000 is past 90%: counted each time');
  const far = counter(100);
  await recent.used('t2', 1_000, 10, far.count);
  await recent.used('t2', 1_000, 850, far.count);
  assert.equal(far.calls(), 2, 'a file that would bring it past 90% is checked against an exact count');
});

test('a count older than FRESH_MS is not used', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 0 });
  const recent = new RecentStorageUse();
  const { count, calls } = counter(10);
  await recent.used('t1', 1_000_000, 1, count);
  t.mock.timers.tick(RecentStorageUse.FRESH_MS);
  await recent.used('t1', 1_000_000, 1, count);
  assert.equal(calls(), 2);
});

// Periodic recovery (distributed mode): runs again and again, never two at once, and stop waits
// for a run under way; a failed run is reported and the next one still comes.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { startPeriodicRecovery } from '../../src/runtime/periodic-recovery.ts';

void test('runs every interval, one at a time; a failure waits for the next run; stop waits for the run under way', async () => {
  let runs = 0;
  let concurrent = 0;
  let most = 0;
  const errors: unknown[] = [];
  const recovery = startPeriodicRecovery(async () => {
    runs++;
    concurrent++;
    most = Math.max(most, concurrent);
    await sleep(30);
    concurrent--;
    if (runs === 2) throw new Error('the store is away');
  }, (error) => errors.push(error), 20);
  await sleep(400);
  await recovery.stop();
  const after = runs;
  assert.ok(runs >= 3, `ran ${runs} times`);
  assert.equal(most, 1, 'never two at once');
  assert.equal(errors.length, 1, 'the failure was reported, and runs went on');
  assert.equal(concurrent, 0, 'stop waited for the run under way');
  await sleep(100);
  assert.equal(runs, after, 'none after stop');
});

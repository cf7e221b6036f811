// Followers of one job in a distributed server read the store together: one read per catch-up
// interval however many follow, and each still gets every event, in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReamEvent } from '../../src/events/types.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { followJobEvents, type FollowedReam } from '../../src/server/follow-events.ts';
import { modeAvailable, withModeReam } from '../support/modes.ts';

const FOLLOWERS = 50;
/** The catch-up interval of follow-events.ts. */
const INTERVAL_MS = 2_000;

async function until(what: string, done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('50 followers of a job cause one store read per interval and all get every stored event in order', { timeout: 90_000 }, async (t) => {
  if (!modeAvailable(t, 'distributed')) return;
  await withModeReam('distributed', { work: false }, async ({ ream }) => {
    const job = await ream.createJob();
    let reads = 0;
    const counted: FollowedReam = {
      deployment: ream.deployment,
      subscribe: (filter, listener) => ream.subscribe(filter, listener),
      getJob: (jobId) => ream.getJob(jobId),
      listEvents: (jobId, afterSeq, limit) => {
        reads++;
        return ream.listEvents(jobId, afterSeq, limit);
      },
    };
    const store = adaptersOf(ream).store;
    const progress = { documentsDone: 0, documentsTotal: 0, pagesDone: 0, pagesTotal: 0, percent: 0, etaSeconds: null };
    const append = (message: string): Promise<ReamEvent> => store.appendEvent({ type: 'stage.completed', jobId: job.id, tenantId: job.tenantId, at: Date.now(), progress, message });
    await append('before');

    const received = Array.from({ length: FOLLOWERS }, () => [] as number[]);
    const follows = received.map((seqs) => followJobEvents(counted, job.id, {
      afterSeq: 0,
      send: (event) => seqs.push(event.seq),
      onError: (error) => assert.fail(String(error)),
    }));
    const stored = async (): Promise<number[]> => (await ream.listEvents(job.id, 0)).map((event) => event.seq);
    const first = await stored();
    await until('the replay', () => received.every((seqs) => seqs.length === first.length));

    // Stored and never published: only the catch-up brings these.
    reads = 0;
    for (let i = 0; i < 3; i++) await append(`late ${i}`);
    const all = await stored();
    await until('the catch-up', () => received.every((seqs) => seqs.length === all.length));
    // One follower per read was 50 reads here; a read that found nothing just before the appends may add one.
    assert.ok(reads <= 3, `${reads} reads of the store for ${FOLLOWERS} followers`);
    for (const seqs of received) assert.deepEqual(seqs, all);

    // A quiet job: about one read per interval, not one per follower.
    reads = 0;
    const since = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS + 500));
    const intervals = Math.ceil((Date.now() - since) / INTERVAL_MS);
    assert.ok(reads <= intervals, `${reads} reads in ${intervals} intervals`);

    // The last follower gone, the reads stop.
    for (const follow of follows) follow.stop();
    reads = 0;
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS + 500));
    assert.equal(reads, 0);
  });
});

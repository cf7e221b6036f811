// The shared catch-up of a job's followers (shared-catch-up.ts) against a store that fails once,
// a follower whose cursor is past everything stored: neither may cost the others their events. A
// follower whose subscriber does not read is handed nothing until it has room.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReamEvent } from '../../src/events/types.ts';
import type { DistributedSettings } from '../../src/runtime/deployment.ts';
import { followJobEvents, type FollowedReam } from '../../src/server/follow-events.ts';
import type { JobRecord } from '../../src/store/port.ts';

const JOB = 'job_shared_catch_up';

async function until(what: string, done: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A distributed ream's follow surface over an in-memory list of events, none of them published. */
function storedOnly(): { ream: FollowedReam; append: () => void; failReads: (count: number) => void; reads: () => number } {
  const events: ReamEvent[] = [];
  let failing = 0;
  let reads = 0;
  const ream: FollowedReam = {
    // Only whether it is set matters to a follow: it reads the store on a timer then.
    deployment: {} as DistributedSettings,
    subscribe: () => () => undefined,
    // A running job: the follow waits for more.
    getJob: () => Promise.resolve({ id: JOB, status: 'running' } as JobRecord),
    listEvents: (_jobId, afterSeq, limit = 500) => {
      reads++;
      if (failing > 0) {
        failing--;
        return Promise.reject(new Error('connection reset'));
      }
      return Promise.resolve(events.filter((event) => event.seq > afterSeq).slice(0, limit));
    },
  };
  return {
    ream,
    // Only the fields a follow reads.
    append: () => void events.push({ seq: events.length + 1, type: 'stage.completed', jobId: JOB } as ReamEvent),
    failReads: (count) => void (failing = count),
    reads: () => reads,
  };
}

test('one failed shared read ends no follower: each reads the store itself and gets the event', { timeout: 30_000 }, async () => {
  const { ream, append, failReads } = storedOnly();
  append();
  const received = Array.from({ length: 5 }, () => [] as number[]);
  const errors: unknown[] = [];
  const follows = received.map((seqs) => followJobEvents(ream, JOB, { afterSeq: 0, send: (event) => seqs.push(event.seq), onError: (error) => errors.push(error) }));
  try {
    await until('the replay', () => received.every((seqs) => seqs.length === 1));
    failReads(1);
    append();
    await until('the catch-up', () => errors.length > 0 || received.every((seqs) => seqs.length === 2));
    assert.deepEqual(errors, []);
    for (const seqs of received) assert.deepEqual(seqs, [1, 2]);
  } finally {
    for (const follow of follows) follow.stop();
  }
});

test('a follower resuming past everything stored does not keep the catch-up from the others', { timeout: 30_000 }, async () => {
  const { ream, append } = storedOnly();
  append();
  const seqs: number[] = [];
  const ahead = followJobEvents(ream, JOB, { afterSeq: Number.MAX_SAFE_INTEGER, send: () => assert.fail('nothing is past its cursor'), onError: (error) => assert.fail(String(error)) });
  const behind = followJobEvents(ream, JOB, { afterSeq: 0, send: (event) => seqs.push(event.seq), onError: (error) => assert.fail(String(error)) });
  try {
    await until('the replay', () => seqs.length === 1);
    append();
    append();
    await until('the catch-up', () => seqs.length === 3);
    assert.deepEqual(seqs, [1, 2, 3]);
  } finally {
    ahead.stop();
    behind.stop();
  }
});

test('a follower whose subscriber has no room is handed no stored event, nor queued a read each interval, until it has', { timeout: 60_000 }, async () => {
  const { ream, append, reads } = storedOnly();
  for (let i = 0; i < 3; i++) append();
  const seqs: number[] = [];
  let room = true;
  let opened: () => void = () => undefined;
  const hasRoom = new Promise<void>((resolve) => {
    opened = resolve;
  });
  const follow = followJobEvents(ream, JOB, {
    afterSeq: 0,
    send: (event) => seqs.push(event.seq),
    onError: (error) => assert.fail(String(error)),
    ready: () => (room ? Promise.resolve() : hasRoom),
  });
  try {
    await until('the replay', () => seqs.length === 3);
    // The subscriber stops reading; 1,200 events are stored, none of them published.
    room = false;
    for (let i = 0; i < 1_200; i++) append();
    const readsBefore = reads();
    // Three shared reads' time (one each 2 s).
    await new Promise((resolve) => setTimeout(resolve, 6_500));
    assert.equal(seqs.length, 3, 'nothing is sent to a subscriber without room');
    assert.ok(reads() - readsBefore <= 1, `one read waits for the room, no more are queued behind it (${reads() - readsBefore} reads)`);
    room = true;
    opened();
    await until('the rest', () => seqs.length === 1_203);
    assert.deepEqual(seqs, Array.from({ length: 1_203 }, (_, i) => i + 1));
  } finally {
    follow.stop();
  }
});

import assert from 'node:assert/strict';
import type { EventBus } from '../../src/events/port.ts';
import type { ReamEvent } from '../../src/events/types.ts';
import { registerSuite, sleep, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

type Subject = { bus: EventBus };

function event(jobId: string, tenantId: string, seq: number): ReamEvent {
  return {
    seq,
    type: 'job.progress',
    jobId,
    tenantId,
    at: 1_000 + seq,
    progress: { documentsDone: 0, documentsTotal: 1, pagesDone: seq, pagesTotal: 100, percent: seq, etaSeconds: null },
  };
}

/** Delivery may be asynchronous (Redis): wait until `done()` holds, or fail after `timeoutMs`. */
async function eventually(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for delivery');
    await sleep(5);
  }
}

/** Lets stray deliveries (that must not happen) arrive before asserting their absence. */
const SETTLE_MS = 50;

const keys = (events: ReamEvent[]): string[] => events.map((e) => `${e.jobId}#${e.seq}`);

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'delivers events unchanged and in publish order',
    async run({ bus }) {
      const received: ReamEvent[] = [];
      bus.subscribe({}, (e) => received.push(e));
      const sent = [1, 2, 3, 4, 5].map((seq) => ({ ...event('j1', 't1', seq), documentId: 'd', message: `m${seq}` }));
      for (const e of sent) await bus.publish(e);
      await eventually(() => received.length === sent.length);
      assert.deepEqual(received, sent);
    },
  },
  {
    name: 'filters by jobId, by tenantId and by both',
    async run({ bus }) {
      const all: ReamEvent[] = [];
      const byJob: ReamEvent[] = [];
      const byTenant: ReamEvent[] = [];
      const byBoth: ReamEvent[] = [];
      bus.subscribe({}, (e) => all.push(e));
      bus.subscribe({ jobId: 'j1' }, (e) => byJob.push(e));
      bus.subscribe({ tenantId: 't2' }, (e) => byTenant.push(e));
      bus.subscribe({ jobId: 'j3', tenantId: 't2' }, (e) => byBoth.push(e));
      const sent = [event('j1', 't1', 1), event('j2', 't2', 1), event('j3', 't2', 1), event('j1', 't1', 2), event('j3', 't1', 1)];
      for (const e of sent) await bus.publish(e);
      await eventually(() => all.length === sent.length);
      await sleep(SETTLE_MS);
      assert.deepEqual(keys(byJob), ['j1#1', 'j1#2']);
      assert.deepEqual(keys(byTenant), ['j2#1', 'j3#1']);
      assert.deepEqual(keys(byBoth), ['j3#1']);
    },
  },
  {
    name: 'a listener that throws, or an async one that rejects, does not stop delivery to the others',
    async run({ bus }) {
      const before: ReamEvent[] = [];
      const after: ReamEvent[] = [];
      bus.subscribe({}, (e) => before.push(e));
      bus.subscribe({}, () => {
        throw new Error('listener bug');
      });
      // Its rejection must not be left unhandled (that would end the process).
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- an async listener on purpose: what a caller may pass
      bus.subscribe({}, async () => {
        await Promise.resolve();
        throw new Error('async listener bug');
      });
      bus.subscribe({}, (e) => after.push(e));
      await bus.publish(event('j1', 't1', 1));
      await bus.publish(event('j1', 't1', 2));
      await eventually(() => before.length === 2 && after.length === 2);
    },
  },
  {
    name: 'unsubscribe stops delivery to that listener only, and is idempotent',
    async run({ bus }) {
      const kept: ReamEvent[] = [];
      const dropped: ReamEvent[] = [];
      bus.subscribe({ jobId: 'j1' }, (e) => kept.push(e));
      const unsubscribe = bus.subscribe({ jobId: 'j1' }, (e) => dropped.push(e));
      await bus.publish(event('j1', 't1', 1));
      await eventually(() => kept.length === 1 && dropped.length === 1);
      unsubscribe();
      unsubscribe();
      await bus.publish(event('j1', 't1', 2));
      await eventually(() => kept.length === 2);
      await sleep(SETTLE_MS);
      assert.equal(dropped.length, 1);
    },
  },
  {
    name: 'a listener may unsubscribe itself while being called',
    async run({ bus }) {
      const once: ReamEvent[] = [];
      const others: ReamEvent[] = [];
      const unsubscribe = bus.subscribe({}, (e) => {
        once.push(e);
        unsubscribe();
      });
      bus.subscribe({}, (e) => others.push(e));
      await bus.publish(event('j1', 't1', 1));
      await bus.publish(event('j1', 't1', 2));
      await eventually(() => others.length === 2);
      await sleep(SETTLE_MS);
      assert.deepEqual(keys(once), ['j1#1']);
    },
  },
];

/** Registers the events port's contract (src/events/port.ts) against one adapter. */
export function eventsConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('events', name, make, cases, options);
}

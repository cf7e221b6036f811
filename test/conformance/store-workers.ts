import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { WorkerCommand, WorkerRecord, WorkerState, WorkerStore } from '../../src/store/port.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { registerSuite, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

type Subject = { store: WorkerStore };

function worker(overrides: Partial<WorkerRecord> = {}): WorkerRecord {
  return {
    id: randomUUID(), host: 'box-1', pid: 4242, startedAt: 1_700_000_000_000, lastSeenAt: 1_700_000_005_000,
    concurrency: 8, inFlight: 3, tasksDone: 10, tasksFailed: 1, state: 'running', ...overrides,
  };
}

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'workers: a heartbeat upserts by id, listWorkers filters by last seen, removeWorker forgets',
    async run({ store }) {
      const first = worker();
      await store.putWorker(first);
      const beat = { ...first, lastSeenAt: 1_700_000_010_000, inFlight: 0, tasksDone: 13, state: 'draining' as const };
      await store.putWorker(beat);
      const stale = worker({ startedAt: 1_600_000_000_000, lastSeenAt: 1_700_000_000_000, state: 'paused' });
      await store.putWorker(stale);
      const mine = (workers: WorkerRecord[]) => workers.filter((w) => w.id === first.id || w.id === stale.id);
      assert.deepEqual(mine(await store.listWorkers(1_700_000_010_000)), [beat]);
      assert.deepEqual(mine(await store.listWorkers(0)), [stale, beat], 'oldest start first');
      await store.removeWorker(first.id);
      await store.removeWorker(first.id);
      assert.deepEqual(mine(await store.listWorkers(0)), [stale]);
    },
  },
  {
    name: 'workers: a beat\'s detail is stored as given; an admin\'s command outlives later beats and is answered to each',
    async run({ store }) {
      const detail = { cpuPercent: 12.5, rssMb: 210, tasks: [{ taskId: 't1', jobId: 'j1', chunk: { index: 0, from: 0, to: 5 } }], recent: [] };
      const first = worker({ detail });
      assert.equal(await store.putWorker(first), undefined, 'no command yet');
      assert.deepEqual((await store.listWorkers(0)).find((w) => w.id === first.id), first);
      assert.equal(await store.commandWorker(first.id, 'pause'), true);
      const beat = { ...first, lastSeenAt: first.lastSeenAt + 2_000, state: 'paused' as const, detail: { cpuPercent: 0, tasks: [] } };
      assert.equal(await store.putWorker(beat), 'pause', 'the next beat hears the command');
      assert.equal(await store.putWorker({ ...beat, command: 'drain' }), 'pause', 'a beat cannot set its own command');
      assert.deepEqual((await store.listWorkers(0)).find((w) => w.id === first.id), { ...beat, command: 'pause' });
      assert.equal(await store.commandWorker(first.id, 'resume'), true);
      assert.equal(await store.putWorker(beat), 'resume', 'a later command replaces the earlier one');
      assert.equal(await store.commandWorker('no-such-worker', 'drain'), false);
      await rejectsWithCode(store.commandWorker(first.id, 'explode' as WorkerCommand), 'validation_failed');
    },
  },
  {
    name: 'putWorker with an unknown state is validation_failed',
    async run({ store }) {
      const odd = worker({ state: 'sleeping' as WorkerState });
      await rejectsWithCode(store.putWorker(odd), 'validation_failed');
      assert.ok((await store.listWorkers(0)).every((w) => w.id !== odd.id));
    },
  },
];

/** Registers the worker port's contract (src/store/worker-store.ts) against one adapter. */
export function workerStoreConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('store/workers', name, make, cases, options);
}

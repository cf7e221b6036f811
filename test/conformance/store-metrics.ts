import assert from 'node:assert/strict';
import type { MetricsSample, MetricsStore } from '../../src/store/port.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { registerSuite, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

type Subject = { store: MetricsStore };

const INTERVAL = 10_000;
const T0 = 1_700_000_000_000;

function sample(slotIndex: number, overrides: Partial<MetricsSample> = {}): MetricsSample {
  return {
    at: T0 + slotIndex * INTERVAL, intervalMs: INTERVAL, pages: slotIndex, tasks: 2, tasksFailed: 1, documents: 1, documentsFailed: 0,
    failures: { timeout: 1 }, queued: 3, running: 1, oldestQueuedMs: 1_500, tokens: 42, ...overrides,
  };
}

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'metrics: samples come back as stored, from `since`, oldest first',
    async run({ store }) {
      for (const i of [2, 0, 1]) assert.equal(await store.putMetricsSample(sample(i, i === 1 ? { oldestQueuedMs: null, failures: {} } : {}), 100), true);
      assert.deepEqual(await store.listMetricsSamples(0), [sample(0), sample(1, { oldestQueuedMs: null, failures: {} }), sample(2)]);
      assert.deepEqual(await store.listMetricsSamples(T0 + INTERVAL), [sample(1, { oldestQueuedMs: null, failures: {} }), sample(2)]);
      assert.deepEqual(await store.listMetricsSamples(T0 + 3 * INTERVAL), []);
    },
  },
  {
    name: 'metrics: a ring of `capacity` slots: a later interval replaces the oldest, never more rows than the ring',
    async run({ store }) {
      for (let i = 0; i < 7; i++) await store.putMetricsSample(sample(i), 3);
      assert.deepEqual((await store.listMetricsSamples(0)).map((s) => s.pages), [4, 5, 6]);
      assert.equal(await store.putMetricsSample(sample(1, { pages: 99 }), 3), false, 'an interval older than its slot\'s is dropped');
      assert.deepEqual((await store.listMetricsSamples(0)).map((s) => s.pages), [4, 5, 6]);
    },
  },
  {
    name: 'metrics: the first sample of an interval wins (two servers sampling one deployment)',
    async run({ store }) {
      assert.equal(await store.putMetricsSample(sample(5, { pages: 10 }), 50), true);
      assert.equal(await store.putMetricsSample(sample(5, { pages: 11 }), 50), false);
      assert.deepEqual((await store.listMetricsSamples(0)).map((s) => s.pages), [10]);
    },
  },
  {
    name: 'metrics: a sample off its interval grid or a ring of no slots is validation_failed',
    async run({ store }) {
      await rejectsWithCode(store.putMetricsSample(sample(0, { at: T0 + 1 }), 10), 'validation_failed');
      await rejectsWithCode(store.putMetricsSample(sample(0), 0), 'validation_failed');
      assert.deepEqual(await store.listMetricsSamples(0), []);
    },
  },
];

/** Registers the metrics port's contract (src/store/metrics-store.ts) against one adapter. */
export function metricsStoreConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('store/metrics', name, make, cases, options);
}

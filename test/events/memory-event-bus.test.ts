import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryEventBus } from '../../src/events/memory-event-bus.ts';
import type { ReamEvent } from '../../src/events/types.ts';
import { eventsConformance } from '../conformance/events.ts';

eventsConformance('MemoryEventBus', () => {
  const bus = new MemoryEventBus({ onListenerError: () => undefined });
  return Promise.resolve({ bus, cleanup: () => bus.close() });
});

const event: ReamEvent = {
  seq: 1, type: 'job.queued', jobId: 'j', tenantId: 't', at: 1,
  progress: { documentsDone: 0, documentsTotal: 0, pagesDone: 0, pagesTotal: 0, percent: 0, etaSeconds: null },
};

void test('MemoryEventBus reports a throwing listener to onListenerError and delivers synchronously', async () => {
  const errors: unknown[] = [];
  const bus = new MemoryEventBus({ onListenerError: (error) => errors.push(error) });
  let delivered = 0;
  bus.subscribe({}, () => {
    throw new Error('bad');
  });
  bus.subscribe({}, () => (delivered += 1));
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- an async listener on purpose: what a caller may pass
  bus.subscribe({}, async () => {
    await Promise.resolve();
    throw new Error('bad, later');
  });
  const publishing = bus.publish(event);
  assert.equal(delivered, 1, 'delivered before publish resolves');
  await publishing;
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(errors.map((error) => (error as Error).message), ['bad', 'bad, later'], 'the async listener\'s rejection is reported too');
  await bus.close();
  await bus.publish(event);
  assert.equal(delivered, 1, 'close drops subscriptions');
});

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
  const publishing = bus.publish(event);
  assert.equal(delivered, 1, 'delivered before publish resolves');
  await publishing;
  assert.equal(errors.length, 1);
  await bus.close();
  await bus.publish(event);
  assert.equal(delivered, 1, 'close drops subscriptions');
});

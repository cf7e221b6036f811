import type { EventBus, EventFilter, EventListener } from './port.ts';
import type { ReamEvent } from './types.ts';
import { deliver, warnListenerError } from './deliver.ts';

export interface MemoryEventBusOptions {
  /**
   * Called when a listener throws; delivery to the other listeners goes on regardless.
   * Default: a process warning (never an uncaught exception, which would kill the process).
   */
  onListenerError?: (error: unknown, event: ReamEvent) => void;
}

interface Subscription {
  filter: EventFilter;
  listener: EventListener;
}

/**
 * The embedded event bus: synchronous fan-out to listeners in this process, in publish order.
 * It stores nothing; a subscriber that must not miss an event replays from the store by `seq`.
 */
export class MemoryEventBus implements EventBus {
  readonly name = 'memory';
  readonly #subscriptions = new Set<Subscription>();
  readonly #onListenerError: (error: unknown, event: ReamEvent) => void;

  constructor(options: MemoryEventBusOptions = {}) {
    this.#onListenerError = options.onListenerError ?? warnListenerError;
  }

  publish(event: ReamEvent): Promise<void> {
    // A snapshot: listeners that (un)subscribe while being called do not disturb this delivery.
    for (const subscription of [...this.#subscriptions]) {
      if (!this.#subscriptions.has(subscription) || !matches(subscription.filter, event)) continue;
      // "A listener that throws does not stop delivery to the others."
      deliver(subscription.listener, event, this.#onListenerError);
    }
    return Promise.resolve();
  }

  subscribe(filter: EventFilter, listener: EventListener): () => void {
    const subscription: Subscription = { filter: { ...filter }, listener };
    this.#subscriptions.add(subscription);
    return () => {
      this.#subscriptions.delete(subscription);
    };
  }

  /** Drops every subscription. */
  close(): Promise<void> {
    this.#subscriptions.clear();
    return Promise.resolve();
  }
}

function matches(filter: EventFilter, event: ReamEvent): boolean {
  return (filter.jobId === undefined || filter.jobId === event.jobId) && (filter.tenantId === undefined || filter.tenantId === event.tenantId);
}

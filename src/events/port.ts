import type { ReamEvent } from './types.ts';

export interface EventFilter {
  /** Only this job's events. */
  jobId?: string;
  /** Only this tenant's events. */
  tenantId?: string;
}

export type EventListener = (event: ReamEvent) => void;

/**
 * The events port: live fan-out of already-stored events (DESIGN.md §5).
 * Delivery is best effort and in publish order per job; a subscriber that needs every event
 * replays from the store by `seq` (store.listEvents) and then follows live, dropping `seq`s it
 * has seen. A listener that throws does not stop delivery to the others.
 */
export interface EventBus {
  readonly name: string;
  publish(event: ReamEvent): Promise<void>;
  /** Returns the function that unsubscribes. */
  subscribe(filter: EventFilter, listener: EventListener): () => void;
  close(): Promise<void>;
}

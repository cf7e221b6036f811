// Handing one event to one listener, for every event bus: a listener that fails never stops
// delivery to the others, nor kills the process.
import type { EventListener } from './port.ts';
import type { ReamEvent } from './types.ts';

export type ListenerErrorHandler = (error: unknown, event: ReamEvent) => void;

/** The buses' default: a process warning (never an uncaught exception, which would kill the process). */
export const warnListenerError: ListenerErrorHandler = (error, event) => {
  process.emitWarning(`ream: an event listener threw on ${event.type} (job ${event.jobId}): ${String(error)}`);
};

/**
 * Calls `listener`; a throw, or the rejection of the promise an async listener returns (its type
 * says `void`, which an async function fits), goes to `onError` instead of unwinding the
 * publisher or ending the process as an unhandled rejection.
 */
export function deliver(listener: EventListener, event: ReamEvent, onError: ListenerErrorHandler): void {
  try {
    const returned: unknown = listener(event);
    if (returned instanceof Promise) returned.catch((error: unknown) => onError(error, event));
  } catch (error) {
    onError(error, event);
  }
}

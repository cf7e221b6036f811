import type { BatchEvent } from './types.ts';

/** Delivers an event; undefined when nobody listens, so `emit?.({…})` does not even build the event. */
export type Emit<T, R> = ((event: BatchEvent<T, R>) => void) | undefined;

/**
 * Wraps a listener so that nothing it does reaches the batch: a throw or a rejected promise
 * becomes a process warning (once per batch, not once per event, to keep logs readable).
 */
export function eventEmitter<T, R>(listener: ((event: BatchEvent<T, R>) => void) | undefined): Emit<T, R> {
  if (!listener) return undefined;
  let warned = false;
  const warn = (error: unknown): void => {
    if (warned) return;
    warned = true;
    process.emitWarning(`processBatch: an onEvent listener failed (further failures are not reported): ${String(error)}`, 'ReamWarning');
  };
  return (event) => {
    try {
      // The listener is typed to return void, but an async one returns a promise: catch it too.
      const returned: unknown = listener(event);
      if (returned instanceof Promise) returned.catch(warn);
    } catch (error) {
      warn(error);
    }
  };
}

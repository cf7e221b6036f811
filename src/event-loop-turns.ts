import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * For a loop whose awaits never wait on I/O (SQLite answers on this thread at once): the function
 * answered lets the event loop go round once `everyMs` have passed since its last turn, so a long
 * loop (a retention sweep, a large job's deletion) holds requests that long at most, not to its
 * end. A turn at every step made a sweep of small jobs up to twice as long.
 */
export function turnsEvery(everyMs: number): () => Promise<void> {
  let last = Date.now();
  return async () => {
    if (Date.now() - last < everyMs) return;
    await nextTurn();
    last = Date.now();
  };
}

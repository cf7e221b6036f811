/**
 * Sends pushed messages (events of a subscription or stream) only once a check of the caller's
 * credentials that began after each was queued has passed: a revoked key gets no more, from the
 * moment its revocation is stored. Checks do not pile up: the messages queued while one runs go
 * together after the next, so a burst of events costs a few checks, not one each.
 */
export interface CheckedSender<T> {
  push(message: T): void;
  /** Resolves once everything pushed so far is sent (or dropped: revoked, stopped). */
  idle(): Promise<void>;
  /** Drops what is queued and sends nothing more. */
  stop(): void;
}

export function checkedSender<T>(live: () => Promise<boolean>, send: (message: T) => void, onRevoked: () => void): CheckedSender<T> {
  let queue: T[] = [];
  let checking = false;
  let stopped = false;
  let drained: Promise<void> = Promise.resolve();
  const drain = async (): Promise<void> => {
    checking = true;
    try {
      while (queue.length > 0 && !stopped) {
        const batch = queue;
        queue = [];
        // A store that does not answer holds the messages back rather than sending them unchecked.
        const ok = await live().catch(() => undefined);
        if (stopped) return;
        if (ok === false) {
          stopped = true;
          queue = [];
          onRevoked();
          return;
        }
        if (ok === undefined) {
          queue = [...batch, ...queue];
          await new Promise((resolve) => setTimeout(resolve, 1000));
          continue;
        }
        for (const message of batch) send(message);
      }
    } finally {
      checking = false;
    }
  };
  return {
    push(message) {
      if (stopped) return;
      queue.push(message);
      if (!checking) drained = drain();
    },
    idle: () => drained,
    stop() {
      stopped = true;
      queue = [];
    },
  };
}

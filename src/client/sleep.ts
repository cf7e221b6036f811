/**
 * Waits `ms`, or rejects with the signal's reason once it aborts: `node:timers/promises`'
 * `setTimeout` without Node, so the client also runs in a browser.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the signal's reason as given, as fetch rejects
      reject(abortError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the signal's reason as given, as fetch rejects
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The signal's reason as it is (`abort('bye')`: 'bye'), as `fetch` rejects; an AbortError when it has none. */
function abortError(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return reason ?? Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
}

/** Resolves at the first SIGINT or SIGTERM (a stop request from Ctrl-C, systemd, Docker, Kubernetes). */
export function untilStopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * For commands that stop cleanly and resume later (`ream run`, `ream rows`): the first SIGINT or
 * SIGTERM aborts the returned signal (the command winds down, its checkpoints kept); a second
 * one exits at once, with 130 (the next run still resumes).
 */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nstopping… (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

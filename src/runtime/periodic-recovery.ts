// Distributed mode: recovery runs now and then, not only when a process starts. A Redis that lost
// its data (a flush, a restart without AOF) lost the queued tasks of running jobs; with every
// process up, nothing started, and those jobs stayed `running` with nothing queued until someone
// restarted one. Recovery is safe to run beside working processes (enqueue dedupes by task id,
// and a document is failed as stuck only once it has no task left and is still unfinished).

/** How often each process of a deployment runs recovery, in ms (with up to a fifth more, so processes spread out). */
export const RECOVERY_INTERVAL_MS = 5 * 60_000;

/** Runs `recover` every interval until stopped; a run never overlaps the last, and a failure waits for the next. */
export function startPeriodicRecovery(recover: () => Promise<void>, onError: (error: unknown) => void, intervalMs = RECOVERY_INTERVAL_MS): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const next = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = recover().catch(onError).finally(() => {
        running = undefined;
        next();
      });
    }, intervalMs + Math.random() * intervalMs * 0.2);
    timer.unref();
  };
  next();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

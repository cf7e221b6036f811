// `ream run`'s safety net under the job's events: a document whose end event was lost still gets
// its line, because every few seconds documents still waiting are looked up in the store
// (RunTracker.sweep). Each look-up is a query on the thread that also feeds the parsing threads.
// While end events arrive, the events work and the sweep skips; a lost one is found at the first
// sweep after a quiet interval, at the latest once every other document has ended (then no event
// comes, and the run would otherwise wait forever).

export interface QuietGate {
  /** A document's end event arrived: the events are flowing. */
  heard(): void;
  /** A sweep is due: whether no end event arrived since the last call (then it looks). */
  quiet(): boolean;
}

export function createQuietGate(): QuietGate {
  let heardSinceTick = false;
  return {
    heard() {
      heardSinceTick = true;
    },
    quiet() {
      const quiet = !heardSinceTick;
      heardSinceTick = false;
      return quiet;
    },
  };
}

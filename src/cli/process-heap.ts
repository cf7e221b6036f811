// The CLI process's V8 heap, kept small. With a high allocation rate (a `ream rows` over a
// million rows) Node 24's V8 grows the main thread's young generation to 128 MB and lets its old
// generation grow far past what is alive, all of it resident: on a 300,000-row run the main
// heap reached 158 MB (32 MB new, 96 MB old, 34 MB large objects) of which a few MB were alive.
// A pool thread's heap is capped by `resourceLimits` (runtime/thread-pool.ts), but the main
// thread's size flags are read only at start-up, which a CLI run from a shell does not control.
// Two of V8's flags are read at run time, and apply to every thread of the process:
// - the factor by which the young generation grows: once it has reached `youngMb`, growth stops;
// - how far the old generation may grow past what the last full collection kept.
// Measured on 300,000 rows with rules (docs/benchmarks.md): peak RSS 367 → 270 MB for 12 % more
// CPU. Used by `ream rows`, where the table's size is what makes the heap grow; `ream run` caps
// only its young generation (RUN_YOUNG_GENERATION_MB); a server or worker keeps V8's defaults
// (nothing was measured there). They are V8's internal flags: a V8
// without them ignores them, and the heap is as before.
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * The young generation of a `ream rows` process, in MB: enough for scavenges to stay cheap, an
 * eighth of what V8 would grow it to. At 64 MB a million rows took 37 CPU s at 350 MB peak
 * RSS; at 32 MB, 44 CPU s at 288 MB. Since the main thread appends each batch's CSV records as
 * the pool wrote them (no row parsed there), 16 MB costs no more CPU than 32 (9.3 s either way).
 */
export const ROWS_YOUNG_GENERATION_MB = 16;
/**
 * The semi-space a pool thread starts with, in MB (its young generation is two of them, within
 * the pool's `maxYoungGenerationSizeMb`). Read when a thread's heap is made: set before the pool
 * starts. A `ream rows` thread holds a batch's JSON texts and CSV records (~0.6 MB per 2,000
 * rows) while it allocates fast: at 4 MB they were copied and promoted by most scavenges, and a
 * million rows took 15–17 CPU s; at 6 MB, 9.5 s, at 8 MB 9.3 s for 10 MB more peak RSS
 * (docs/benchmarks.md, "Spreadsheets").
 */
const POOL_SEMI_SPACE_MB = 6;
/** How often the young generation's size is looked at until it reaches the cap, in ms: V8 doubles it within tens of ms when a process starts busy (at 100 ms a `ream run` overshot 8 MB to 32). */
const CHECK_EVERY_MS = 10;
/** Old-generation growth past the live size before the next full collection, in percent (V8 grows by up to 4×). */
const OLD_GENERATION_GROWTH_PERCENT = 20;

/** The young generation's size now, in MB (both semi-spaces). */
export function youngGenerationMb(): number {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return (space?.space_size ?? 0) / (1024 * 1024);
}

/**
 * The young generation of a `ream run` process, in MB. Its main thread allocates fast (events,
 * records, task replies) and keeps little, so V8 grew its young generation to ~64 MB, most of it
 * resident: on the shared PDF corpus at 2 threads, 8 MB took peak RSS from 404–410 MB to ~335 MB
 * at the same CPU (docs/benchmarks.md, "PDF text extraction"). Pool threads cap theirs anyway.
 */
export const RUN_YOUNG_GENERATION_MB = 8;

/**
 * Keeps the process's heap near what is alive: the old generation's growth bounded at once, the
 * young generation's stopped once it is about `youngMb` (see {@link capYoungGeneration}).
 */
export function keepHeapSmall(youngMb: number): () => void {
  setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`);
  return capYoungGeneration(youngMb);
}

/**
 * Stops the young generation's growth once it is about `youngMb` (it may reach the next doubling
 * step). Watches with an unref'd timer, which never keeps the process alive; returns a stop function.
 */
export function capYoungGeneration(youngMb: number): () => void {
  if (watching) return stopWatching;
  // The growth factor set below applies to every thread: pool threads made later would keep
  // their first semi-space (1 MB) and collect every MB they allocate (a 100,000-row run: 540
  // scavenges in one thread; a `ream run` over the PDF corpus: ~200 per thread, ~0.4 s each).
  // They start at their cap instead (thread-pool.ts bounds it); the main thread, already made, keeps its own.
  setFlagsFromString(`--min-semi-space-size=${POOL_SEMI_SPACE_MB}`);
  const check = (): void => {
    if (youngGenerationMb() < youngMb) return;
    setFlagsFromString('--semi-space-growth-factor=1');
    stopWatching();
  };
  watching = setInterval(check, CHECK_EVERY_MS);
  watching.unref();
  check();
  return stopWatching;
}

let watching: NodeJS.Timeout | undefined;

function stopWatching(): void {
  clearInterval(watching);
  watching = undefined;
}

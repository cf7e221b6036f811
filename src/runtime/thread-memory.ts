// Memory a pool thread holds outside its V8 heap. `resourceLimits` caps only the heap, but what
// a PDF parser holds is mostly ArrayBuffers: the file's bytes and every decoded stream. One
// Flate stream of zeros inflates ~1000:1, so a 7 MB file can ask for gigabytes that no heap cap
// sees, and the process (not the thread) dies. V8 counts ArrayBuffer backing stores as the
// isolate's `external_memory`, which the main thread can read while the thread is busy (even in
// a synchronous loop: the read runs as an interrupt). Each running task is watched, and its
// thread is stopped once that figure passes the thread's budget.
//
// The process RSS is not used to pick a thread to kill: it also holds the main thread's memory
// and pages malloc has not given back, so it would blame whichever thread is looked at. With
// every thread's heap and buffers capped, the process stays within about
// `threads × (heap cap + buffer budget)` plus what the main thread uses.
import type { Worker } from 'node:worker_threads';

/** How often a running task's thread is sampled, in ms: fast enough to catch a runaway decoder (~1 GB/s) early. */
const SAMPLE_MS = 100;

/**
 * Tells the main thread which thread runs which task. Each task gets a slot for as long as it
 * runs; the thread that takes the task writes its `threadId` there (see pool-worker.ts). The
 * table is a SharedArrayBuffer in every thread's `workerData`, so this costs no message.
 */
export class ThreadTable {
  readonly buffer: SharedArrayBuffer;
  readonly #ids: Int32Array;
  readonly #free: number[];

  constructor(slots: number) {
    this.buffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * slots);
    this.#ids = new Int32Array(this.buffer);
    this.#free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  }

  /** A free slot, cleared; `undefined` when all are taken (the pool never runs more tasks than slots). */
  claim(): number | undefined {
    const slot = this.#free.pop();
    if (slot !== undefined) Atomics.store(this.#ids, slot, 0);
    return slot;
  }

  release(slot: number): void {
    Atomics.store(this.#ids, slot, 0);
    this.#free.push(slot);
  }

  /** The threadId of the thread running the slot's task; 0 until a thread has taken it. */
  threadOf(slot: number): number {
    return Atomics.load(this.#ids, slot);
  }
}

/** In a pool thread: records that this thread runs the task of `slot`. */
export function claimSlot(buffer: SharedArrayBuffer | undefined, slot: number | undefined, threadId: number): void {
  if (buffer === undefined || slot === undefined) return;
  Atomics.store(new Int32Array(buffer), slot, threadId);
}

/**
 * Samples the memory held outside the heap by the thread running the task of `slot`, and calls
 * `over` (once) with it when it passes `budgetBytes`. Returns the function that stops watching.
 * Needs `Worker.getHeapStatistics` (Node ≥ 22.16 / 24); without it nothing is watched.
 */
export function watchThreadMemory(
  table: ThreadTable,
  slot: number,
  workers: () => readonly Worker[],
  budgetBytes: number,
  over: (externalBytes: number) => void,
): () => void {
  let sampling = false;
  let done = false;
  const timer = setInterval(() => {
    if (sampling || done) return;
    const id = table.threadOf(slot);
    const worker = id === 0 ? undefined : workers().find((w) => w.threadId === id);
    if (typeof worker?.getHeapStatistics !== 'function') return;
    sampling = true;
    worker.getHeapStatistics().then(
      (stats) => {
        sampling = false;
        // The slot may have moved on to another task (or thread) while the answer travelled.
        if (done || table.threadOf(slot) !== id || stats.external_memory <= budgetBytes) return;
        done = true;
        over(stats.external_memory);
      },
      () => {
        sampling = false; // the thread ended meanwhile: its task reports why
      },
    );
  }, SAMPLE_MS);
  return () => {
    done = true; // an answer still on its way must not fire for a task that has ended
    clearInterval(timer);
  };
}

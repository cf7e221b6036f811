// The OCR engine's memory, watched from the pool thread that owns it. tesseract.js runs its
// engine in a child thread of the pool thread, which the pool does not see (it samples its own
// threads); the engine's WebAssembly memory is that child's `external_memory` (≈40 MB once a
// model is loaded, ≈100 MB while it reads a 300 DPI book page). So while a page is recognised
// this thread samples the child, and gives the page up with `resource_limit` past the budget.
import { resourceLimits, type Worker as NodeWorker } from 'node:worker_threads';
import { ReamError } from '../../errors.ts';

/** As the pool samples its threads (runtime/thread-memory.ts). */
const SAMPLE_MS = 100;
const MB = 1024 * 1024;
/** Outside a pool thread (no limits set): the pool's default cap per thread. */
const FALLBACK_BUDGET_MB = 512;

/**
 * The engine may hold what the pool lets a thread hold outside its heap: the thread's heap cap
 * (`ThreadPoolOptions.maxMemoryMb`, which the pool sets as this thread's old generation).
 */
export function engineBudgetBytes(): number {
  return (resourceLimits.maxOldGenerationSizeMb ?? FALLBACK_BUDGET_MB) * MB;
}

export interface EngineWatch {
  /** Never resolves; rejects with `resource_limit` once the engine's thread holds more than the budget. */
  exceeded: Promise<never>;
  stop(): void;
}

/** Watches `thread` (the engine's Node worker; nothing is watched without one) against `budgetBytes`. */
export function watchEngineMemory(thread: NodeWorker | undefined, budgetBytes: number): EngineWatch {
  let fail: (error: ReamError) => void = () => undefined;
  const exceeded = new Promise<never>((_, reject) => {
    fail = reject;
  });
  exceeded.catch(() => undefined); // a watch stopped unexceeded leaves nobody listening
  if (thread === undefined) return { exceeded, stop: () => undefined };
  let sampling = false;
  const timer = setInterval(() => {
    if (sampling) return;
    sampling = true;
    thread.getHeapStatistics().then(
      (stats) => {
        sampling = false;
        if (stats.external_memory <= budgetBytes) return;
        clearInterval(timer);
        const heldMb = Math.round(stats.external_memory / MB);
        const budgetMb = Math.round(budgetBytes / MB);
        fail(ReamError.nonRetryable('resource_limit', `OCR of the page held ${heldMb} MB, over the ${budgetMb} MB its thread may; the engine was stopped`, {
          details: { heldMb, budgetMb },
        }));
      },
      () => {
        sampling = false; // the engine ended meanwhile: recognize() reports why
      },
    );
  }, SAMPLE_MS);
  timer.unref();
  return { exceeded, stop: () => clearInterval(timer) };
}

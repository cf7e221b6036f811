// CPU work (parsing) runs here, off the event loop, one task per thread at a time. Each task has
// a time limit and each thread a heap cap and a budget for what it holds outside the heap
// (buffers: decoded streams), so a hostile file costs one thread, never the process: the thread
// is terminated (or dies of its heap cap), piscina starts a replacement, and the task fails with
// `timeout` or `resource_limit` while every other task carries on.
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { ReamError, fromErrorInfo, toReamError } from '../errors.ts';
import type { TaskRunOptions, TaskRunner } from '../formats/types.ts';
import type { JsonValue } from '../json.ts';
import type { PoolWorkerData, TaskReply, TaskRequest } from './pool-protocol.ts';
import { Slots } from './slots.ts';
import { ThreadLoading } from './thread-loading.ts';
import { ThreadTable, watchThreadMemory } from './thread-memory.ts';
import { DEFAULT_MAX_MEMORY_MB, MIN_MAX_MEMORY_MB } from './thread-defaults.ts';

export interface ThreadPoolOptions {
  /** Worker threads, and tasks running at once. Default `os.availableParallelism()`. Each thread costs its own heap (~30–200 MB while parsing). */
  threads?: number;
  /**
   * Heap cap per thread, in MB (V8 old generation), and the same again for what a thread holds
   * outside its heap (ArrayBuffers: decoded streams, images), beyond the bytes of the file its
   * task reads (`TaskRunOptions.extraMemoryBytes`). A thread that needs more is killed and its
   * task fails with `resource_limit`; the others carry on. Default {@link DEFAULT_MAX_MEMORY_MB}
   * (512). From 2048 up V8 collects garbage less eagerly: ~20% less CPU for pdf.js, ~50% more
   * peak memory. Size it so that `threads × 2 × maxMemoryMb` (plus the files) fits in the machine.
   */
  maxMemoryMb?: number;
  /**
   * Longest one task may run, in ms, counted from the moment it gets a thread (time spent
   * waiting for one does not count). Past it the thread is terminated and the task fails with
   * `timeout`. Default 120,000.
   */
  taskTimeoutMs?: number;
  /**
   * Extra task modules (`file:` URLs or paths) every thread may load, each exporting `tasks`
   * (see `TaskModule`). For task kinds of your own, and for tests that need a task which spins
   * or exhausts its heap. Default none.
   */
  handlerModules?: readonly (string | URL)[];
  /**
   * A thread whose WebAssembly memory (PDFium's) has grown past this many MB is ended after its
   * current task, and a fresh thread takes its place: WebAssembly memory grows with the largest
   * page a thread has read and never shrinks. Default {@link DEFAULT_RETIRE_ABOVE_MB}.
   */
  retireAboveMb?: number;
  /**
   * The module each thread runs. Default ream's own (pool-worker.ts, or pool-worker.js beside
   * the bundle's chunks). Tests point it at a module that cannot load.
   */
  threadModule?: URL;
}

export interface ThreadPool extends TaskRunner {
  readonly threads: number;
  /** Threads ended so far because their WebAssembly memory passed {@link ThreadPoolOptions.retireAboveMb}. */
  readonly retiredThreads: number;
  /** Runs `task` on a thread; rejects with a `ReamError` whose code says what went wrong. */
  run<T>(task: string, input: JsonValue, options?: TaskRunOptions): Promise<T>;
  /** Stops every thread; running and waiting tasks fail with `cancelled`. */
  destroy(): Promise<void>;
}

export { DEFAULT_MAX_MEMORY_MB } from './thread-defaults.ts';

/**
 * V8 young generation per thread, in MB. The default (up to 48 and more) adds RSS without
 * making pdf.js measurably faster; 16 keeps two threads ~50–100 MB smaller.
 */
const YOUNG_GENERATION_MB = 16;

const MB = 1024 * 1024;

/** Threads that died outside any task, in a row with no task done, before the pool gives up (see `broken`). */
const THREAD_DEATHS_TO_GIVE_UP = 5;

/**
 * 160 MB: PDFium's memory after the whole shared corpus is ~45 MB, so only a thread that met an
 * unusually large file or page pays for a restart (~0.1 s), and two threads stay within the
 * 400 MB the PDF benchmark holds ream to.
 */
export const DEFAULT_RETIRE_ABOVE_MB = 160;

// Keep the current file's extension: `.ts` when run from source, `.js` from dist/.
const WORKER_FILE = new URL(`./pool-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

export function createThreadPool(options: ThreadPoolOptions = {}): ThreadPool {
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  const maxMemoryMb = options.maxMemoryMb ?? DEFAULT_MAX_MEMORY_MB;
  if (!(maxMemoryMb >= MIN_MAX_MEMORY_MB)) {
    throw ReamError.nonRetryable('validation_failed', `the heap cap per thread (maxMemoryMb, --max-memory) must be at least ${MIN_MAX_MEMORY_MB} MB, got ${maxMemoryMb}: a thread needs that much to start`);
  }
  const defaultTimeoutMs = options.taskTimeoutMs ?? 120_000;
  // One slot per task that may run at once (see `slots` below).
  const table = new ThreadTable(threads);
  const workerData: PoolWorkerData = {
    handlerModules: (options.handlerModules ?? []).map(moduleUrl),
    threadTable: table.buffer,
    retireAboveBytes: (options.retireAboveMb ?? DEFAULT_RETIRE_ABOVE_MB) * MB,
  };
  const piscina = new Piscina({
    filename: fileURLToPath(options.threadModule ?? WORKER_FILE),
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: 1,
    idleTimeout: Infinity,
    // Atomics make an idle thread block in Atomics.wait, which would also freeze the timers that
    // release a cached document; our tasks are long enough that message latency does not matter.
    atomics: 'disabled',
    resourceLimits: { maxOldGenerationSizeMb: maxMemoryMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    workerData,
  });
  // At most `threads` tasks are handed to piscina, so each starts at once and its clock is fair.
  const slots = new Slots(threads);
  let destroyed = false;
  // Errors of a thread with no task (it died between tasks, or as it started) are 'error's of
  // the pool. A thread module that cannot load (a damaged installation) kills each thread as it
  // starts: piscina then starts no more (a death during start-up would repeat), or starts them
  // forever, and either way the tasks would wait for a thread that never comes. So when no
  // thread is left, or several died with no task done in between, the pool gives up and every
  // task fails with what the threads said.
  let deathsSinceLastTask = 0;
  // Read through a function: TypeScript keeps a `let` narrowed across the calls that set it.
  let brokenBy: ReamError | undefined;
  const broken = (): ReamError | undefined => brokenBy;
  const giveUpIfNoThreads = (error: unknown): void => {
    if (brokenBy || destroyed || (piscina.threads.length > 0 && deathsSinceLastTask < THREAD_DEATHS_TO_GIVE_UP)) return;
    brokenBy = ReamError.nonRetryable('internal', `the thread pool's threads die as they start (${toReamError(error).message}); is ream's installation complete?`, { cause: error });
    slots.close();
    void destroyThreads().catch(() => {});
  };
  // No thread is ended while it loads its module (see thread-loading.ts): each is watched from
  // when piscina makes it, here and wherever a thread may have ended and been replaced.
  const loading = new ThreadLoading();
  loading.watch(piscina.threads);
  piscina.on('error', (error: unknown) => {
    loading.watch(piscina.threads);
    deathsSinceLastTask++;
    giveUpIfNoThreads(error);
  });
  let destroying: Promise<void> | undefined;
  const destroyThreads = (): Promise<void> => (destroying ??= (async () => {
    await loading.settled(piscina.threads);
    await piscina.destroy();
  })());

  async function run<T>(task: string, input: JsonValue, runOptions: TaskRunOptions = {}): Promise<T> {
    const { signal } = runOptions;
    const gaveUp = broken();
    if (gaveUp) throw gaveUp;
    if (destroyed) throw new ReamError('cancelled', 'the thread pool has been destroyed');
    if (signal?.aborted) throw cancelled(signal);
    const release = await slots.acquire(signal).catch(() => {
      throw broken() ?? (signal?.aborted ? cancelled(signal) : new ReamError('cancelled', 'the thread pool has been destroyed'));
    });
    const timeoutMs = runOptions.timeoutMs ?? defaultTimeoutMs;
    const stop = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop.abort();
    }, timeoutMs);
    const onAbort = (): void => stop.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const slot = table.claim();
    const budgetBytes = maxMemoryMb * MB + (runOptions.extraMemoryBytes ?? 0);
    let overMemory: number | undefined;
    const unwatch = slot === undefined ? () => undefined : watchThreadMemory(table, slot, () => piscina.threads, budgetBytes, (held) => {
      overMemory = held;
      stop.abort();
    });
    try {
      const request: TaskRequest = { task, input, ...(slot === undefined ? {} : { slot }) };
      const reply = (await piscina.run(request, { signal: stop.signal })) as TaskReply;
      deathsSinceLastTask = 0;
      // Before the slot is released, so that no task can be handed to the thread meanwhile.
      if (reply.retire && slot !== undefined) await retire(table.threadOf(slot));
      if (!reply.ok) throw fromErrorInfo(reply.error);
      return reply.value as T;
    } catch (error) {
      if (error instanceof ReamError) throw error;
      if (!timedOut && overMemory === undefined && !signal?.aborted) giveUpIfNoThreads(error);
      const gaveUp = broken();
      if (gaveUp) throw gaveUp;
      if (overMemory !== undefined) {
        throw ReamError.nonRetryable(
          'resource_limit',
          `task ${task} held ${Math.round(overMemory / MB)} MB outside its heap (decoded data), over the ${Math.round(budgetBytes / MB)} MB its thread may; its thread was stopped`,
          { details: { task, heldMb: Math.round(overMemory / MB), budgetMb: Math.round(budgetBytes / MB) } },
        );
      }
      if (timedOut) {
        // Final, not retried: the clock runs only while the task has a thread of its own, so a
        // parse that takes this long is the file's doing (a page built to be slow), and a hostile
        // file must not cost maxAttempts × the limit. Timeouts of I/O (a webhook receiver, a
        // store) are made elsewhere and stay retryable.
        throw ReamError.nonRetryable('timeout', `task ${task} ran longer than ${timeoutMs} ms; its thread was stopped`, {
          details: { task, timeoutMs },
        });
      }
      if (signal?.aborted) throw cancelled(signal);
      if (destroyed) throw new ReamError('cancelled', 'the thread pool has been destroyed', { cause: error });
      if (isOutOfMemory(error)) {
        throw ReamError.nonRetryable('resource_limit', `task ${task} needed more than the ${maxMemoryMb} MB heap a thread may use; its thread was stopped`, {
          cause: error,
          details: { task, maxMemoryMb },
        });
      }
      throw new ReamError('internal', `thread of task ${task} died: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    } finally {
      // A thread stopped for its task (time, memory) or retired has a replacement by now.
      loading.watch(piscina.threads);
      clearTimeout(timer);
      unwatch();
      if (slot !== undefined) table.release(slot);
      signal?.removeEventListener('abort', onAbort);
      release();
    }
  }

  /** Ends the thread `threadId`; piscina replaces it (minThreads). A retired thread's task has already replied. */
  async function retire(threadId: number): Promise<void> {
    const worker = piscina.threads.find((w) => w.threadId === threadId);
    retired++;
    await worker?.terminate().catch(() => {});
  }
  let retired = 0;

  return {
    threads,
    get retiredThreads() {
      return retired;
    },
    run,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      slots.close();
      await destroyThreads();
    },
  };
}

function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  return module.startsWith('file:') ? module : pathToFileURL(module).href;
}

function cancelled(signal: AbortSignal): ReamError {
  // A ReamError reason (the worker's "stopping") or a TimeoutError keep their meaning.
  const error = toReamError(signal.reason);
  return error.code === 'internal' ? new ReamError('cancelled', error.message || 'the task was cancelled', { cause: signal.reason }) : error;
}

function isOutOfMemory(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY';
}

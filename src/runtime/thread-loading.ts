// Which of a pool's threads are still loading their module. piscina loads a thread's module with
// require(), and Node 24 aborts the whole process (an assertion in
// ModuleWrap::CreateRequiredModuleFacade, "facade->InstantiateModule") when a thread is terminated
// at the wrong moment of a require() of an ES module. Seen once: a `ream run` with nothing left to
// do ended its pool while the threads were still loading `pool-worker`, and the run died with
// SIGABRT. So the pool ends no thread before it has loaded (or gone), waiting at most
// {@link THREAD_LOAD_WAIT_MS}.
import type { Worker } from 'node:worker_threads';

/** The key of piscina's message that a thread has loaded its module (`READY` in piscina 5's common.js). */
const PISCINA_READY = '_WORKER_READY';

/** The longest the pool waits for a loading thread before ending it anyway (a module that never loads). */
export const THREAD_LOAD_WAIT_MS = 10_000;

export class ThreadLoading {
  readonly #settled = new WeakMap<Worker, Promise<void>>();

  /**
   * Starts watching threads not watched yet. Call it as soon as piscina may have made a thread
   * (at start, after a thread ended): a thread watched only after its ready message would count
   * as loading until it exits or the wait runs out.
   */
  watch(workers: readonly Worker[]): void {
    for (const worker of workers) if (!this.#settled.has(worker)) this.#settled.set(worker, loadedOrGone(worker));
  }

  /** Resolves once each of `workers` has loaded its module or exited, or after `timeoutMs`. */
  async settled(workers: readonly Worker[], timeoutMs = THREAD_LOAD_WAIT_MS): Promise<void> {
    this.watch(workers);
    let timer: NodeJS.Timeout | undefined;
    const waitedEnough = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(workers.map((worker) => this.#settled.get(worker) ?? Promise.resolve())), waitedEnough]);
    clearTimeout(timer);
  }
}

function loadedOrGone(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      worker.off('message', onMessage);
      worker.off('exit', done);
      resolve();
    };
    const onMessage = (message: unknown): void => {
      if (typeof message === 'object' && message !== null && PISCINA_READY in message) done();
    };
    worker.on('message', onMessage);
    worker.once('exit', done);
  });
}

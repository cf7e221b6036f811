import { hostname } from 'node:os';
import { backoffDelay } from '../batch/backoff.ts';
import { ReamError, toReamError } from '../errors.ts';
import type { LeasedTask } from '../queue/port.ts';
import type { DocumentTasks } from './document-tasks.ts';
import type { Engine } from './engine.ts';

export interface WorkerOptions {
  /** Tasks run at once by this worker. Default: 2 × threads, so threads stay busy while the event loop does I/O. */
  concurrency: number;
  /** Lease length in ms; a heartbeat renews it every third of that. Default 30,000. */
  leaseMs: number;
  /** Longest sleep between claims when the queue is empty, in ms. Default 250. */
  idleMs: number;
  /** Retry delays: base and cap in ms (exponential, full jitter). Defaults 500 and 30,000. */
  retryBaseMs: number;
  retryMaxMs: number;
}

/**
 * Claims tasks and runs them, at most `concurrency` at a time, each under a lease kept alive by
 * a heartbeat. A task's failure is retried through the queue (durable, with backoff) while it
 * is retryable and has attempts left; then it is recorded as failed for good.
 *
 * `stop()` stops claiming and aborts running tasks *without* failing them: they are released
 * back to the queue, so Ctrl-C never costs an attempt.
 */
export class Worker {
  readonly id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  readonly #engine: Engine;
  readonly #tasks: DocumentTasks;
  readonly #options: WorkerOptions;
  readonly #stopping = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  #loop: Promise<void> | undefined;

  constructor(engine: Engine, tasks: DocumentTasks, options: WorkerOptions) {
    this.#engine = engine;
    this.#tasks = tasks;
    this.#options = options;
  }

  get running(): number {
    return this.#inFlight.size;
  }

  start(): void {
    this.#loop ??= this.#claimLoop();
  }

  /** Stops claiming, aborts running tasks (releasing them to the queue), and waits for them to unwind. */
  async stop(): Promise<void> {
    this.#stopping.abort(new ReamError('cancelled', 'the worker is stopping'));
    await this.#loop;
    await Promise.allSettled(this.#inFlight);
  }

  async #claimLoop(): Promise<void> {
    const { queue } = this.#engine.deps;
    const signal = this.#stopping.signal;
    while (!signal.aborted) {
      if (this.#inFlight.size >= this.#options.concurrency) {
        await Promise.race(this.#inFlight);
        continue;
      }
      let task: LeasedTask | undefined;
      try {
        task = await queue.claim({ workerId: this.id, leaseMs: this.#options.leaseMs });
      } catch (error) {
        // A store hiccup must not kill the worker: wait and try again.
        process.emitWarning(`ream worker: claim failed: ${toReamError(error).message}`);
        await queue.waitForWork(this.#options.idleMs * 4, signal);
        continue;
      }
      if (!task) {
        await queue.waitForWork(this.#options.idleMs, signal);
        continue;
      }
      if (signal.aborted) {
        await queue.release(task).catch(() => undefined); // claimed while stopping: give it back
        break;
      }
      const running: Promise<void> = this.#execute(task).finally(() => this.#inFlight.delete(running));
      this.#inFlight.add(running);
    }
  }

  async #execute(task: LeasedTask): Promise<void> {
    const { queue } = this.#engine.deps;
    const controller = new AbortController();
    const onStop = (): void => controller.abort(this.#stopping.signal.reason);
    this.#stopping.signal.addEventListener('abort', onStop, { once: true });
    if (this.#stopping.signal.aborted) onStop();
    const untrack = this.#engine.track(task.jobId, controller);
    let leaseLost = false;
    const heartbeat = setInterval(() => {
      queue.extendLease(task, this.#options.leaseMs).then(
        (kept) => {
          if (kept) return;
          leaseLost = true;
          controller.abort(new ReamError('cancelled', 'the task lease was lost'));
        },
        () => undefined, // a missed heartbeat is not fatal; the next one may get through
      );
    }, Math.max(10, Math.floor(this.#options.leaseMs / 3)));
    try {
      try {
        await this.#tasks.run(task, controller.signal);
      } catch (thrown) {
        await this.#afterError(task, controller.signal, thrown, () => leaseLost);
        return;
      }
      // The work and its checkpoint are done: a failing `complete` must not record a failure.
      // The lease then expires and the task runs again, finding its checkpoint.
      await queue.complete(task).catch((error: unknown) => {
        process.emitWarning(`ream worker: could not complete ${task.id}: ${toReamError(error).message}`);
      });
    } finally {
      clearInterval(heartbeat);
      untrack();
      this.#stopping.signal.removeEventListener('abort', onStop);
    }
  }

  /** A task threw: give it back (stopping), leave it (lease lost), or retry/fail it. */
  async #afterError(task: LeasedTask, signal: AbortSignal, thrown: unknown, leaseLost: () => boolean): Promise<void> {
    // Lease lost: another worker owns the task now and will record its outcome.
    if (leaseLost()) return;
    // Shutting down: give the task back unfinished; the next start runs it, no attempt lost.
    if (this.#stopping.signal.aborted) {
      await this.#engine.deps.queue.release(task).catch(() => undefined); // if this fails the lease expires instead
      return;
    }
    await this.#handleFailure(task, toReamError(signal.aborted ? signal.reason : thrown));
  }

  async #handleFailure(task: LeasedTask, error: ReamError): Promise<void> {
    const { queue, store } = this.#engine.deps;
    try {
      const job = await store.getJob(task.jobId);
      if (!job || job.status === 'cancelled') {
        await queue.fail(task, error.toJSON()); // nothing to record: the job is gone or cancelled
        return;
      }
      const cancelled = error.code === 'cancelled';
      if (!cancelled && error.retryable && task.attempts < task.maxAttempts) {
        const delay = backoffDelay(task.attempts, { baseDelayMs: this.#options.retryBaseMs, maxDelayMs: this.#options.retryMaxMs, factor: 2 });
        await queue.fail(task, error.toJSON(), delay);
        return;
      }
      const final = error.retryable && !cancelled
        ? new ReamError(error.code, `${error.message} (after ${task.attempts} attempts)`, { retryable: false, details: error.details ?? {} })
        : error;
      // Record the failure only while the task is still ours: a worker that took it over owns its outcome.
      if (!(await queue.extendLease(task, this.#options.leaseMs))) return;
      await this.#tasks.failed(task, final);
      await queue.fail(task, final.toJSON());
    } catch (secondary) {
      // Recording the failure failed (store down?): leave the lease; the task will run again.
      process.emitWarning(`ream worker: could not record failure of ${task.id}: ${toReamError(secondary).message}`);
    }
  }
}

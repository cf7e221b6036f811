import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { isDiskFull } from '../disk-full.ts';
import { ReamError, toReamError } from '../errors.ts';
import type { LeasedTask } from '../queue/port.ts';
import type { TaskQueue } from '../queue/port.ts';
import type { Store, WorkerCommand, WorkerState } from '../store/port.ts';
import type { DocumentTasks } from './document-tasks.ts';
import type { AbortRegistry } from './engine/abort-registry.ts';
import { IntakeGate, type IntakeLimits } from './intake.ts';
import { SpanKind } from '@opentelemetry/api';
import { contextOf, inSpan } from '../tracing/spans.ts';
import { settleFailure, type FailureContext } from './task-failure.ts';
import { TASK_KINDS } from './task-kinds.ts';
import { WorkerMonitor, type TaskOutcome } from './worker-monitor.ts';

/** How long running tasks may finish when an admin drains a worker that has no drain handler of its own. */
const ADMIN_DRAIN_TIMEOUT_MS = 30_000;

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
  /**
   * Retry delays of some task kinds, in place of `retryBaseMs`/`retryMaxMs`: webhook deliveries
   * wait longer (a receiver that is down for minutes is common; a document task's failure rarely
   * needs more than seconds).
   */
  retryByKind?: Readonly<Record<string, RetryPolicy>>;
  /** Stop claiming while memory or event-loop lag is over these limits (none by default). */
  intake?: IntakeLimits;
  /** How often this worker records itself in the store's workers list, in ms. Default 2,000. */
  heartbeatMs?: number;
  /**
   * An admin asked this worker to drain (`POST /v1/workers/:id/drain`): `ream worker` drains and
   * exits as on SIGTERM. Without it the worker drains itself and stops working (a server goes on
   * answering requests).
   */
  onDrainRequested?: () => void;
  /**
   * A write found no room (a full disk, see disk-full.ts) while a task ran, was recorded, or was
   * claimed: every task would fail the same way until space is freed. `ream run` stops at it.
   */
  onDiskFull?: (error: ReamError) => void;
}

export interface RetryPolicy {
  /** Delay after the first failed attempt, in ms; doubled after each next one (full jitter). */
  baseMs: number;
  /** Longest delay, in ms. */
  maxMs: number;
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
  readonly #queue: TaskQueue;
  readonly #store: Pick<Store, 'getJob' | 'getJobDocument' | 'putWorker' | 'removeWorker'>;
  readonly #aborts: Pick<AbortRegistry, 'track'>;
  readonly #tasks: DocumentTasks;
  readonly #options: WorkerOptions;
  readonly startedAt = Date.now();
  /** Aborted to stop claiming (drain or stop). */
  readonly #claiming = new AbortController();
  /** Aborted to interrupt running tasks, which are then released to the queue (stop). */
  readonly #stopping = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #intake: IntakeGate;
  #loop: Promise<void> | undefined;
  #presence: NodeJS.Timeout | undefined;
  #state: WorkerState = 'running';
  /** Paused by an admin (until resumed), apart from the intake gate's own pauses. */
  #adminPaused = false;
  #pausedReason: string | undefined;
  readonly #monitor = new WorkerMonitor();
  readonly #failures: FailureContext;
  #tasksDone = 0;
  #tasksFailed = 0;

  /**
   * `ports`: the queue it claims from and the store it records itself in; `aborts`: where running
   * tasks are registered, so a cancelled job's tasks are aborted.
   */
  constructor(
    ports: { queue: TaskQueue; store: Pick<Store, 'getJob' | 'getJobDocument' | 'putWorker' | 'removeWorker'> },
    aborts: Pick<AbortRegistry, 'track'>,
    tasks: DocumentTasks,
    options: WorkerOptions,
  ) {
    this.#queue = ports.queue;
    this.#store = ports.store;
    this.#aborts = aborts;
    this.#tasks = tasks;
    this.#options = options;
    this.#intake = new IntakeGate(options.intake ?? {});
    this.#failures = {
      queue: ports.queue, store: ports.store, tasks, leaseMs: options.leaseMs,
      retryPolicy: (kind) => options.retryByKind?.[kind] ?? { baseMs: options.retryBaseMs, maxMs: options.retryMaxMs },
    };
  }

  get running(): number {
    return this.#inFlight.size;
  }

  get state(): WorkerState {
    return this.#state;
  }

  start(): void {
    if (this.#loop) return;
    this.#loop = this.#claimLoop();
    void this.#announce();
    this.#presence = setInterval(() => void this.#announce(), this.#options.heartbeatMs ?? 2_000);
    this.#presence.unref();
  }

  /**
   * Graceful drain (SIGTERM): stops claiming, lets running tasks finish for up to `timeoutMs`,
   * then stops — tasks still running are released to the queue unfinished, without losing an attempt.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.#state = 'draining';
    this.#claiming.abort(new ReamError('cancelled', 'the worker is draining'));
    void this.#announce();
    await this.#loop;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.allSettled(this.#inFlight), timeout]);
    clearTimeout(timer);
    await this.stop();
  }

  /** Stops claiming, aborts running tasks (releasing them to the queue), and waits for them to unwind. */
  async stop(): Promise<void> {
    this.#claiming.abort(new ReamError('cancelled', 'the worker is stopping'));
    this.#stopping.abort(new ReamError('cancelled', 'the worker is stopping'));
    await this.#loop;
    await Promise.allSettled(this.#inFlight);
    if (this.#presence) clearInterval(this.#presence);
    this.#intake.close();
    await this.#store.removeWorker(this.id).catch(() => undefined);
  }

  /** Records this worker in the store's workers list (host, pid, resources, tasks), and hears an admin's command. */
  async #announce(): Promise<void> {
    if (this.#stopping.signal.aborted) return;
    const [host = '', pid = '0'] = this.id.split(':');
    const command = await this.#store
      .putWorker({
        id: this.id,
        host,
        pid: Number(pid),
        startedAt: this.startedAt,
        lastSeenAt: Date.now(),
        concurrency: this.#options.concurrency,
        inFlight: this.#inFlight.size,
        tasksDone: this.#tasksDone,
        tasksFailed: this.#tasksFailed,
        state: this.#state,
        detail: this.#monitor.detail(this.#state === 'paused' ? this.#pausedReason : undefined, this.#options.intake),
      })
      .catch(() => undefined); // presence is informational: a missed beat is not an error
    if (command) this.#obey(command);
  }

  /** An admin's command, heard at a beat; repeated beats repeat it, so each step is idempotent. */
  #obey(command: WorkerCommand): void {
    if (command === 'drain') {
      if (this.#state === 'draining') return;
      if (this.#options.onDrainRequested) {
        this.#state = 'draining';
        this.#options.onDrainRequested();
      } else {
        void this.drain(ADMIN_DRAIN_TIMEOUT_MS);
      }
      return;
    }
    this.#adminPaused = command === 'pause';
  }

  /** Why no task may be claimed now, if so: an admin's pause, or the intake gate's limits. */
  #closedReason(): string | undefined {
    if (this.#adminPaused) return 'paused by an admin';
    const intake = this.#intake.state();
    return intake.open ? undefined : (intake.reason ?? 'overloaded');
  }

  async #claimLoop(): Promise<void> {
    const queue = this.#queue;
    const signal = this.#claiming.signal;
    // A full worker waits for a task to end, or for a drain or stop: a drain's timeout starts
    // when this loop has ended, so the wait must not outlast the abort.
    const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    while (!signal.aborted) {
      if (this.#inFlight.size >= this.#options.concurrency) {
        await Promise.race([...this.#inFlight, stopped]);
        continue;
      }
      const closed = this.#closedReason();
      if (closed !== undefined) {
        if (this.#state === 'running') {
          this.#state = 'paused';
          this.#pausedReason = closed;
          process.emitWarning(`ream worker: not taking work: ${closed}`);
          void this.#announce();
        }
        await delay(this.#options.idleMs * 4, undefined, { signal }).catch(() => undefined); // an abort ends the wait early
        continue;
      }
      if (this.#state === 'paused') {
        this.#state = 'running';
        this.#pausedReason = undefined;
        void this.#announce();
      }
      let task: LeasedTask | undefined;
      try {
        task = await queue.claim({ workerId: this.id, leaseMs: this.#options.leaseMs });
      } catch (error) {
        // A store hiccup must not kill the worker: wait and try again.
        process.emitWarning(`ream worker: claim failed: ${toReamError(error).message}`);
        this.#noticeDiskFull(error);
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

  /** Tells {@link WorkerOptions.onDiskFull} of a failure that is a full disk. */
  #noticeDiskFull(error: unknown): void {
    if (this.#options.onDiskFull !== undefined && isDiskFull(error)) this.#options.onDiskFull(toReamError(error));
  }

  async #execute(task: LeasedTask): Promise<void> {
    const queue = this.#queue;
    const controller = new AbortController();
    const onStop = (): void => controller.abort(this.#stopping.signal.reason);
    this.#stopping.signal.addEventListener('abort', onStop, { once: true });
    if (this.#stopping.signal.aborted) onStop();
    const untrack = this.#aborts.track(task.jobId, controller, documentOf(task));
    this.#monitor.started(task);
    let outcome: TaskOutcome = 'completed';
    let errorCode: string | undefined;
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
      // A cancel reaches running tasks over the queue's channel; one said while the queue did
      // not answer (a Redis stall) never comes, so the store, where every cancel is, is asked too.
      this.#cancelledMeanwhile(task).then(
        (cancelled) => {
          if (cancelled) controller.abort(new ReamError('cancelled', 'cancelled'));
        },
        () => undefined, // the next heartbeat asks again
      );
    }, Math.max(10, Math.floor(this.#options.leaseMs / 3)));
    try {
      try {
        // A span per task, the child of the span that made it (in this process or another).
        const parent = contextOf((task.payload as { trace?: unknown } | null)?.trace);
        await inSpan(`task ${task.kind}`, { 'ream.job_id': task.jobId, 'ream.task_id': task.id, 'ream.attempt': task.attempts }, () => this.#tasks.run(task, controller.signal), parent, SpanKind.CONSUMER);
      } catch (thrown) {
        errorCode = toReamError(controller.signal.aborted ? controller.signal.reason : thrown).code;
        this.#noticeDiskFull(thrown);
        outcome = await this.#afterError(task, controller.signal, thrown, () => leaseLost);
        return;
      }
      // The work and its checkpoint are done: a failing `complete` must not record a failure.
      // The lease then expires and the task runs again, finding its checkpoint.
      this.#tasksDone++;
      await queue.complete(task).catch((error: unknown) => {
        process.emitWarning(`ream worker: could not complete ${task.id}: ${toReamError(error).message}`);
        this.#noticeDiskFull(error);
      });
    } finally {
      clearInterval(heartbeat);
      untrack();
      this.#stopping.signal.removeEventListener('abort', onStop);
      this.#monitor.ended(task, outcome, errorCode);
    }
  }

  /** Whether the task's job, or its document, was cancelled since it was claimed. */
  async #cancelledMeanwhile(task: LeasedTask): Promise<boolean> {
    if (task.kind === TASK_KINDS.webhook) return false; // a cancelled job's webhook still goes out
    if ((await this.#store.getJob(task.jobId))?.status === 'cancelled') return true;
    const documentId = documentOf(task);
    return documentId !== undefined && (await this.#store.getJobDocument(task.jobId, documentId))?.status === 'cancelled';
  }

  /** A task threw: give it back (stopping), leave it (lease lost), or retry/fail it. */
  async #afterError(task: LeasedTask, signal: AbortSignal, thrown: unknown, leaseLost: () => boolean): Promise<TaskOutcome> {
    // Lease lost: another worker owns the task now and will record its outcome.
    if (leaseLost()) return 'lease_lost';
    // Shutting down: give the task back unfinished; the next start runs it, no attempt lost.
    if (this.#stopping.signal.aborted) {
      await this.#queue.release(task).catch(() => undefined); // if this fails the lease expires instead
      return 'released';
    }
    const outcome = await settleFailure(this.#failures, task, toReamError(signal.aborted ? signal.reason : thrown));
    if (outcome === 'failed') this.#tasksFailed++;
    return outcome;
  }
}

/** The document a task works on (its payload names it), so cancelling that document aborts it. */
function documentOf(task: LeasedTask): string | undefined {
  const documentId = (task.payload as { documentId?: unknown } | null)?.documentId;
  return typeof documentId === 'string' ? documentId : undefined;
}

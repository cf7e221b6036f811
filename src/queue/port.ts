import type { ErrorInfo } from '../errors.ts';
import type { JsonValue } from '../json.ts';

/** What a task that used its last attempt records when its lease runs out (in every queue). */
export const LEASE_EXPIRED: ErrorInfo = {
  code: 'worker_lost',
  message: 'the worker running it on its last attempt stopped (killed, out of memory or its machine lost) or stopped heartbeating',
};

/**
 * The queue port: durable, at-least-once scheduling of tasks (DESIGN.md §5).
 *
 * Contract every adapter must keep (test/conformance/queue.ts checks it):
 * - `enqueue` dedupes by task id: a task whose id exists already (in any state) is not added again.
 * - `claim` hands a task to one worker at a time, under a lease. Higher `priority` first, then
 *   earlier `runAt`, then insertion order. A task whose `runAt` is in the future is not claimable.
 * - A lease that is not extended before `leaseUntil` expires: the task becomes claimable again
 *   (crash recovery) and `attempts` counts the new claim. The old holder's `complete`/`fail` then
 *   answer `false`/`'lost'` — its work may be repeated, which is why results are idempotent.
 *   If the expired lease was the task's last attempt, the task fails for good instead (as a
 *   stalled job does in BullMQ), so a task that kills its worker every time cannot loop forever.
 * - A flow parent stays `waiting` until every child is `completed`, `failed` or `cancelled`:
 *   a failed child never leaves its parent stuck.
 * - `cancelJob` removes the job's queued and waiting tasks; leased ones finish or fail on their own
 *   (the engine aborts them through its own signal) and can no longer be retried.
 *
 * Deliberately not in the contract: results (they live in the store), connection types, and
 * any notion of "workers" beyond the opaque `workerId` on a lease.
 */
export type TaskStatus = 'waiting' | 'queued' | 'leased' | 'completed' | 'failed' | 'cancelled';

export interface NewTask {
  /** Unique id; enqueueing an existing id is a no-op (dedupe). */
  id: string;
  jobId: string;
  /** What to run, e.g. `document.inspect`, `chunk.extract`, `document.merge`. */
  kind: string;
  payload: JsonValue;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** Epoch ms before which the task is not claimable. Default: now. */
  runAt?: number;
  /** Total attempts allowed, including the first. Default 3. */
  maxAttempts?: number;
}

export interface LeasedTask {
  id: string;
  jobId: string;
  kind: string;
  payload: JsonValue;
  priority: number;
  /** 1 on the first claim, 2 on the next, … */
  attempts: number;
  maxAttempts: number;
  /** Set when the task is a child of a flow. */
  parentId: string | undefined;
  /** Epoch ms the task was first due (its `runAt`): the tasks it schedules may keep its place in the claim order. */
  runAt: number;
  /** Proves ownership of this lease: a stale holder cannot complete a re-leased task. */
  leaseToken: string;
  /** Epoch ms. */
  leaseUntil: number;
}

export interface ClaimOptions {
  workerId: string;
  /** How long the lease lasts without a heartbeat, in ms. */
  leaseMs: number;
  /** Only claim these kinds (default: any). */
  kinds?: readonly string[];
}

export type FailOutcome = 'retrying' | 'failed' | 'lost';

/** The status a task that `fail` ends for good takes: a cancel's stop is no failure of the task. */
export function endedAs(error: ErrorInfo): 'failed' | 'cancelled' {
  return error.code === 'cancelled' ? 'cancelled' : 'failed';
}

/** One priority level of the queue's unfinished work (`TaskQueue.backlog`). */
export interface QueueBacklog {
  priority: number;
  /** Tasks claimable now. */
  queued: number;
  /** Tasks queued for later: a future `runAt`, or a retry waiting out its delay. */
  delayed: number;
  /** Tasks under a lease (an expired one too, until it is taken over or failed). */
  running: number;
  /**
   * Epoch ms since which the level's longest-waiting claimable task has been due: its `runAt`,
   * which a retry or a release keeps, so the age counts from when the task was first due. `null`
   * when nothing at this level is claimable. BullMQ reads it from the level's next task in claim
   * order (and due retries), which is the oldest unless a retry went back behind newer tasks.
   */
  oldestQueuedAt: number | null;
}

export interface TaskQueue {
  readonly name: string;
  enqueue(tasks: readonly NewTask[]): Promise<number>;
  /**
   * Enqueue children now and the parent as `waiting` until all children have ended. Dedupes by
   * the parent's id: when the parent exists, nothing is added (a repeated task re-creating its
   * flow is a no-op). The parent waits for the children this call added; with none it is queued.
   */
  enqueueFlow(parent: NewTask, children: readonly NewTask[]): Promise<void>;
  claim(options: ClaimOptions): Promise<LeasedTask | undefined>;
  /** Heartbeat: push `leaseUntil` to now + leaseMs. `false` when the lease is no longer ours. */
  extendLease(task: LeasedTask, leaseMs: number): Promise<boolean>;
  /**
   * Gives an unfinished task back because its worker is shutting down (Ctrl-C, SIGTERM, drain):
   * queued again at once and this attempt not counted. `false` when the lease was no longer ours.
   */
  release(task: LeasedTask): Promise<boolean>;
  /**
   * `false` when the lease was lost (expired and re-claimed). A leased task of a cancelled job may
   * still complete: cancelling only stops its retries.
   */
  complete(task: LeasedTask): Promise<boolean>;
  /**
   * Ends an attempt in failure. With `retryDelayMs` and attempts left, the task is queued again
   * at now + delay (`'retrying'`); otherwise it ends for good (`'failed'`): its status is
   * `cancelled` when `error` is (a running task its job's cancel stopped), else `failed`.
   */
  fail(task: LeasedTask, error: ErrorInfo, retryDelayMs?: number): Promise<FailOutcome>;
  /**
   * Called when the queue itself fails a task: a lease that expired on the task's last attempt
   * (its worker died or hung). The engine records that failure where users see it, since no
   * worker will. Returns the function that unsubscribes.
   */
  onLeaseExpired(listener: (task: LeasedTask, error: ErrorInfo) => void): () => void;
  /**
   * Cancels the job's queued and waiting tasks and returns how many; its leased tasks are not
   * counted, and from then on their `fail` answers `'failed'`, never `'retrying'`.
   */
  cancelJob(jobId: string): Promise<number>;
  /**
   * Capability of queues shared by several processes: called in every process when any of them
   * cancels a job, so each aborts that job's tasks it is running. A single-process queue has no
   * need of it (the engine aborts its own tasks) and leaves it out.
   */
  onJobCancelled?(listener: (jobId: string) => void): () => void;
  /**
   * Capability of queues shared by several processes, paired with {@link onDocumentCancelled}:
   * tells every process that one document of a job was cancelled. Its queued tasks need no
   * removal (they find the document ended and do nothing); running ones are aborted by listeners.
   */
  announceDocumentCancelled?(jobId: string, documentId: string): Promise<void>;
  /** Called in every process when any of them cancels one document of a job. Returns the unsubscriber. */
  onDocumentCancelled?(listener: (jobId: string, documentId: string) => void): () => void;
  counts(jobId?: string): Promise<Record<TaskStatus, number>>;
  /**
   * The work waiting and running, per priority level, highest first: only levels with a queued,
   * delayed or leased task. Flow parents waiting for their children are not in it.
   */
  backlog(): Promise<QueueBacklog[]>;
  /**
   * Resolves when a task may have become claimable (an enqueue or a retry in this process), after
   * at most `maxWaitMs`, or when `signal` aborts. Lets workers sleep without busy polling.
   */
  waitForWork(maxWaitMs: number, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

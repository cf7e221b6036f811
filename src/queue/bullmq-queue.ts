// Over 300 lines on purpose: it only orchestrates (records in bullmq-records.ts, lease moves in
// bullmq-moves.ts, fetching ahead in bullmq-prefetch.ts), one short method per TaskQueue member.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ErrorInfo } from '../errors.ts';
import { readBacklog } from './bullmq-backlog.ts';
import { BullmqHandles } from './bullmq-handles.ts';
import { BullmqKeys, bullmqJobIdOf, queueNameOf } from './bullmq-keys.ts';
import { KnownKinds } from './bullmq-kinds.ts';
import { LeaseSweeper } from './bullmq-leases.ts';
import { LeaseMoves, LOST } from './bullmq-moves.ts';
import { connectRedis, keepFinished, type BullmqQueueOptions } from './bullmq-options.ts';
import { Prefetcher } from './bullmq-prefetch.ts';
import { TaskRecords } from './bullmq-records.ts';
import { BullmqRedis } from './bullmq-redis.ts';
import { attemptsOf, leasedFromJob, parentOf, prepareTask, recordOf, uniqueById, type KeepFinished, type TaskJob } from './bullmq-task.ts';
import { endedAs, type ClaimOptions, type FailOutcome, type LeasedTask, type NewTask, type QueueBacklog, type TaskQueue, type TaskStatus } from './port.ts';
import { Wakeups } from './wakeups.ts';

export type { BullmqQueueOptions } from './bullmq-options.ts';

/**
 * The queue port on BullMQ (distributed mode, DESIGN.md §5). One BullMQ queue per task kind, so
 * `claim({ kinds })` is honoured; claims are pulled with manual `Worker.getNextJob` (the lease
 * token is BullMQ's lock token, `leaseMs` its lock duration), flows are BullMQ flows. This class
 * orchestrates; the parts are BullmqHandles (BullMQ objects), TaskRecords (ream's records and
 * counters in Redis, the channels), LeaseMoves (leases and lock-checked moves), Prefetcher (jobs
 * fetched ahead), LeaseSweeper (lease expiry) and BullmqRedis (reads of BullMQ's keys its API
 * lacks).
 *
 * Every move of a task is recorded with its new status (bullmq-moves.ts), so `counts(jobId)` is
 * one read of the job's counters and `cancelJob` knows the queued tasks without asking BullMQ.
 *
 * Claim order: within a kind, higher priority first, then the order tasks became due (a batch is
 * sorted by `runAt` before it is added, and a delayed task joins its priority when due). Across
 * kinds, a claim peeks at each queue's head and takes from the queue whose best task has the
 * highest priority; un-prioritized BullMQ entries rank first, as BullMQ serves them first within
 * their queue. A task given back (released, or fetched ahead and unclaimed) returns to the front
 * of its priority. A fetched-ahead task (bullmq-prefetch.ts) can be served at most one task
 * before a higher-priority newcomer per busy claimer, and goes back when this process adds a task
 * of another kind due before it (a document's chunks, added by its inspection); it stays `queued` until a claim takes it,
 * and when this process dies holding it, it comes back through the lease sweep, attempt counted.
 *
 * Dedupe is by (jobId, task id); an id reused under another job dedupes only while BullMQ still
 * holds the first task.
 */
/** How often an idle claim reads the task kinds from Redis again, in ms. */
const KINDS_REFRESH_MS = 5_000;

export class BullmqQueue implements TaskQueue {
  readonly name = 'bullmq';
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #keys: BullmqKeys;
  readonly #ops: BullmqRedis;
  readonly #records: TaskRecords;
  readonly #handles: BullmqHandles;
  readonly #moves: LeaseMoves;
  readonly #keep: KeepFinished;
  readonly #retentionMs: number;
  readonly #kinds: KnownKinds;
  #kindsReadAt = Date.now();
  readonly #wakeups = new Wakeups();
  readonly #sweeper: LeaseSweeper;
  readonly #prefetch: Prefetcher;
  readonly #expiryListeners = new Set<(task: LeasedTask, error: ErrorInfo) => void>();
  readonly #cancelListeners = new Set<(jobId: string) => void>();
  readonly #documentCancelListeners = new Set<(jobId: string, documentId: string) => void>();
  #closed = false;

  private constructor(redis: Redis, subscriber: Redis, options: BullmqQueueOptions) {
    this.#redis = redis;
    this.#subscriber = subscriber;
    this.#keys = new BullmqKeys(options.prefix ?? 'ream');
    this.#ops = new BullmqRedis(redis, this.#keys);
    this.#handles = new BullmqHandles(redis, this.#keys.prefix);
    const { keep, retentionMs, recordsTtlMs } = keepFinished(options.retention);
    this.#keep = keep;
    this.#retentionMs = retentionMs;
    this.#records = new TaskRecords(redis, this.#keys, recordsTtlMs);
    this.#moves = new LeaseMoves(this.#records, this.#ops, this.#handles);
    this.#kinds = new KnownKinds(this.#records);
    this.#sweeper = new LeaseSweeper({
      redis: this.#ops,
      intervalMs: options.stalledCheckMs ?? 5_000,
      kinds: () => this.#kinds.refresh(),
      queueOf: (kind) => this.#handles.queue(kind),
      transition: async (job, to, token, move) => {
        if ((await this.#moves.move(job, to, token, move)) === LOST) return false;
        if (to === 'failed') await this.#childEnded(job);
        return true;
      },
      onRequeued: () => this.#wakeups.notify(),
      onFailed: (job, error) => {
        const task = leasedFromJob(job, '', Date.now());
        for (const listener of this.#expiryListeners) listener(task, error);
      },
    });
    this.#prefetch = new Prefetcher({
      ...(options.prefetchHoldMs === undefined ? {} : { holdMs: options.prefetchHoldMs }),
      workerOf: (kind, leaseMs) => this.#handles.worker(kind, leaseMs),
      giveBack: async ({ kind, job, token }) => {
        if (await this.#moves.giveBack(job, token)) await this.#announce([{ kind, runAt: 0 }], Date.now());
      },
    });
  }

  /** Connects to Redis and subscribes to the work and cancel channels. */
  static async open(options: BullmqQueueOptions): Promise<BullmqQueue> {
    const [redis, subscriber] = await connectRedis(options.url);
    const queue = new BullmqQueue(redis, subscriber, options);
    await queue.#listen();
    return queue;
  }

  async enqueue(tasks: readonly NewTask[]): Promise<number> {
    const now = Date.now();
    const prepared = uniqueById(tasks.map((task) => prepareTask(task, now, this.#keep)));
    if (prepared.length === 0) return 0;
    // "enqueue dedupes by task id: a task whose id exists already (in any state) is not added
    // again" — BullMQ forgets ids once retention removes a job, ream's records do not.
    const known = await this.#records.knownTasks(prepared.map((p) => ({ id: p.data.taskId, jobId: p.data.jobId })));
    // Stable sort: within one priority BullMQ serves in insertion order, so runAt order holds.
    const fresh = prepared.filter((_, i) => !known[i]).sort((a, b) => a.runAt - b.runAt);
    if (fresh.length === 0) return 0;
    await this.#kinds.register(fresh.map((p) => p.kind));
    const byQueue = Map.groupBy(fresh, (p) => p.kind);
    await Promise.all([...byQueue].map(([kind, group]) => this.#handles.queue(kind).addBulk(group.map((p) => ({ name: p.kind, data: p.data, opts: p.opts })))));
    // Recorded after BullMQ has them: a crash in between leaves tasks BullMQ still dedupes, never
    // a record of a task that does not exist. Concurrent enqueues of one id count it once.
    const recorded = await this.#records.record(fresh.map((p) => recordOf(p, 'queued')));
    this.#noteAdded(fresh);
    await this.#announce(fresh, now);
    return recorded.filter(Boolean).length;
  }

  async enqueueFlow(parent: NewTask, children: readonly NewTask[]): Promise<void> {
    const now = Date.now();
    const parentTask = prepareTask(parent, now, this.#keep);
    const childTasks = uniqueById(children.map((child) => prepareTask(child, now, this.#keep, parent))).filter((c) => c.data.taskId !== parent.id);
    const known = await this.#records.knownTasks([parentTask, ...childTasks].map((p) => ({ id: p.data.taskId, jobId: p.data.jobId })));
    if (known[0]) return; // the flow exists already (dedupe by the parent's id)
    // "The parent waits for the children this call added; with none it is queued."
    const fresh = childTasks.filter((_, i) => !known[i + 1]);
    if (fresh.length === 0) {
      await this.enqueue([parent]);
      return;
    }
    await this.#kinds.register([parentTask, ...fresh].map((p) => p.kind));
    await this.#handles.flows().add({
      name: parentTask.kind,
      queueName: parentTask.queueName,
      data: parentTask.data,
      opts: parentTask.opts,
      // "A failed child never leaves its parent stuck": on a final failure BullMQ moves the
      // child to its parent's ignored dependencies, and the parent goes on when none is pending.
      children: fresh.map((c) => ({ name: c.kind, queueName: c.queueName, data: c.data, opts: { ...c.opts, ignoreDependencyOnFailure: true } })),
    });
    await this.#records.record([recordOf(parentTask, 'waiting'), ...fresh.map((c) => recordOf(c, 'queued'))]);
    this.#noteAdded(fresh);
    await this.#announce(fresh, now);
  }

  async claim(options: ClaimOptions): Promise<LeasedTask | undefined> {
    if (options.kinds?.length === 0) return undefined;
    await this.#sweeper.sweepIfDue();
    // Taken without a round trip (its `leased` record follows, see LeaseMoves.lease).
    const fetched = this.#prefetch.take(options.kinds, options.leaseMs);
    if (fetched) return this.#moves.lease(fetched.job, fetched.token, options.leaseMs, fetched.fetchedAt);
    const kinds = (options.kinds ?? this.#kinds.all()).filter((kind) => this.#kinds.has(kind));
    for (const kind of await this.#ops.claimOrder(kinds)) {
      const token = randomUUID();
      const started = Date.now();
      const job = (await this.#handles.worker(kind, options.leaseMs).getNextJob(token, { block: false })) as TaskJob | undefined;
      if (!job) continue;
      return this.#moves.lease(job, token, options.leaseMs, started);
    }
    // Nothing to claim: now and then, the kinds in Redis again, in case one was missed (a work
    // message lost while this process reconnected).
    if (Date.now() - this.#kindsReadAt > KINDS_REFRESH_MS) {
      this.#kindsReadAt = Date.now();
      await this.#kinds.refresh();
    }
    return undefined;
  }

  async extendLease(task: LeasedTask, leaseMs: number): Promise<boolean> {
    const started = Date.now();
    const job = await this.#moves.jobOf(task);
    if (!job || (await job.extendLock(task.leaseToken, leaseMs)) !== 1) return false;
    task.leaseUntil = started + leaseMs;
    return true;
  }

  async release(task: LeasedTask): Promise<boolean> {
    const job = await this.#moves.jobOf(task);
    if (!job || !(await this.#moves.giveBack(job, task.leaseToken))) return false;
    await this.#announce([{ kind: task.kind, runAt: 0 }], Date.now());
    return true;
  }

  async complete(task: LeasedTask): Promise<boolean> {
    // Only a lease handed out here knows its Worker (whose lock duration the fetched job gets).
    const lease = this.#moves.leaseOf(task);
    const job = await this.#moves.jobOf(task);
    if (!job) return false;
    const fetchNext = lease !== undefined && this.#prefetch.wants(task.kind, lease.leaseMs);
    const fetchedAt = Date.now();
    const next = await this.#moves.move(job, 'completed', task.leaseToken, () => job.moveToCompleted(null, task.leaseToken, fetchNext));
    if (next === LOST) return false;
    const released = await this.#childEnded(job);
    if (fetchNext) {
      const from = { kind: task.kind, token: task.leaseToken, leaseMs: lease.leaseMs, fetchedAt };
      // A released parent (a document's merge) is ranked against the fetched job by the next
      // claim, not served after it: the document finishes before later documents' chunks run.
      if (released) this.#prefetch.giveBackNow(next, from);
      else this.#prefetch.keep(next, from, lease.leasedAt);
    }
    return true;
  }

  async fail(task: LeasedTask, error: ErrorInfo, retryDelayMs?: number): Promise<FailOutcome> {
    const job = await this.#moves.jobOf(task);
    if (!job) return 'lost';
    const { leaseToken: token } = task;
    const retry = retryDelayMs !== undefined && attemptsOf(job) < job.data.maxAttempts && !(await this.#records.isJobCancelled(task.jobId));
    if (retry) {
      const at = Date.now() + Math.max(0, retryDelayMs);
      if ((await this.#moves.move(job, 'queued', token, () => job.moveToDelayed(at, token))) === LOST) return 'lost';
      this.#wakeups.notifyAt(at);
      return 'retrying';
    }
    const failure = new Error(`${error.code}: ${error.message}`);
    const to = endedAs(error);
    if ((await this.#moves.move(job, to, token, () => job.moveToFailed(failure, token, false))) === LOST) return 'lost';
    await this.#childEnded(job);
    if (to === 'cancelled') {
      // Out of BullMQ's failed set, into the overall cancelled count, as a removed queued task.
      await this.#handles.queue(task.kind).remove(bullmqJobIdOf(task.id), { removeChildren: false });
      await this.#records.countCancelled(task.jobId, task.id);
    }
    return 'failed';
  }

  onLeaseExpired(listener: (task: LeasedTask, error: ErrorInfo) => void): () => void {
    this.#expiryListeners.add(listener);
    return () => this.#expiryListeners.delete(listener);
  }

  /**
   * Called in every process sharing the prefix when any of them cancels a job (pub/sub
   * `<prefix>:cancel`), so each can abort the job's tasks it is running. Returns the unsubscriber.
   */
  onJobCancelled(listener: (jobId: string) => void): () => void {
    this.#cancelListeners.add(listener);
    return () => this.#cancelListeners.delete(listener);
  }

  async announceDocumentCancelled(jobId: string, documentId: string): Promise<void> {
    await this.#redis.publish(this.#keys.documentCancelChannel, JSON.stringify({ jobId, documentId }));
  }

  onDocumentCancelled(listener: (jobId: string, documentId: string) => void): () => void {
    this.#documentCancelListeners.add(listener);
    return () => this.#documentCancelListeners.delete(listener);
  }

  async cancelJob(jobId: string): Promise<number> {
    // Marked first: from here on a leased task's `fail` answers 'failed', never 'retrying'.
    await this.#records.markJobCancelled(jobId);
    await this.#prefetch.drain(jobId);
    return this.#cancelQueued(jobId, true);
  }

  /**
   * Removes the job's queued and waiting tasks from BullMQ and records them as cancelled, in
   * three round trips however many tasks there are: the records name the tasks, BullMQ's own
   * removal (its removeJob script, which knows its keys) goes out for all of them at once, parents
   * first, and one script records those it removed — one a worker holds meanwhile stays (0).
   */
  async #cancelQueued(jobId: string, announce: boolean): Promise<number> {
    const tasks = await this.#records.cancellable(jobId);
    const removed = await Promise.all(tasks.map((task) => this.#handles.queue(task.kind).remove(bullmqJobIdOf(task.id), { removeChildren: false })));
    return this.#records.cancelled(jobId, tasks.filter((_, i) => removed[i] === 1).map((task) => task.id), announce);
  }

  async counts(jobId?: string): Promise<Record<TaskStatus, number>> {
    this.#moves.flush(); // leases handed out this very turn are counted as such
    if (jobId !== undefined) return this.#records.jobCounts(jobId);
    const counts = await this.#handles.countAll(await this.#kinds.refresh());
    // Fetched ahead here (active in BullMQ) but not claimed: still queued for users.
    counts.leased -= this.#prefetch.size;
    counts.queued += this.#prefetch.size;
    counts.cancelled = await this.#records.cancelledTotal(this.#retentionMs);
    return counts;
  }

  /** Read from BullMQ's keys of every kind's queue in one round trip (bullmq-backlog.ts). */
  async backlog(): Promise<QueueBacklog[]> {
    const kinds = await this.#kinds.refresh();
    return readBacklog(this.#redis, this.#keys, [...kinds].map(queueNameOf), this.#prefetch.heldTasks());
  }

  /**
   * Wakes on an enqueue, retry or release in this process, on a task becoming due here, and on
   * `<prefix>:work` messages from other processes; a lease expiry found by a sweep wakes too.
   */
  waitForWork(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    return this.#wakeups.wait(maxWaitMs, signal);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeups.close();
    await this.#prefetch.close();
    this.#moves.flush();
    await this.#sweeper.close();
    await this.#handles.close();
    await Promise.all([this.#subscriber.quit(), this.#redis.quit()]);
  }

  /** A flow child ended: its parent may be claimable now (BullMQ released it if it was the last). */
  /** True when the child's end released its parent. */
  async #childEnded(job: TaskJob): Promise<boolean> {
    const parent = parentOf(job);
    if (!parent) return false;
    this.#wakeups.notify();
    return this.#records.childEnded(parent);
  }

  async #listen(): Promise<void> {
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#keys.cancelChannel) {
        // Tasks of that job fetched ahead here are given back and cancelled too. On failure
        // (Redis gone) their locks run out and the sweep queues them again.
        void this.#prefetch
          .drain(message)
          // Cancelled whether or not any was held here now: one this process gave back just
          // before the message came (its hold ran out) is queued again and must go too.
          .then(() => this.#cancelQueued(message, false))
          .catch(() => undefined);
        for (const listener of this.#cancelListeners) listener(message);
        return;
      }
      if (channel === this.#keys.documentCancelChannel) {
        const cancelled = documentCancelOf(message);
        if (cancelled) for (const listener of this.#documentCancelListeners) listener(cancelled.jobId, cancelled.documentId);
        return;
      }
      this.#kinds.learn(message);
      this.#wakeups.notify();
    });
    await this.#subscriber.subscribe(this.#keys.workChannel, this.#keys.cancelChannel, this.#keys.documentCancelChannel);
    await this.#kinds.refresh();
  }

  /** Tells the prefetcher the earliest `runAt` added per kind (see Prefetcher.added). */
  #noteAdded(tasks: readonly { kind: string; runAt: number }[]): void {
    const earliest = new Map<string, number>();
    for (const { kind, runAt } of tasks) earliest.set(kind, Math.min(runAt, earliest.get(kind) ?? Infinity));
    for (const [kind, runAt] of earliest) this.#prefetch.added(kind, runAt);
  }

  /** Wakes waiters here at once (or when the earliest task is due), and elsewhere if due now. */
  async #announce(tasks: readonly { kind: string; runAt: number }[], now: number): Promise<void> {
    const earliest = Math.min(...tasks.map((task) => task.runAt));
    this.#wakeups.notifyAt(earliest, now);
    if (earliest <= now) await this.#records.announceWork([...new Set(tasks.map((task) => task.kind))]);
  }
}

/** A message of the document cancel channel; `undefined` for one not of its form (never thrown on). */
function documentCancelOf(message: string): { jobId: string; documentId: string } | undefined {
  try {
    const parsed = JSON.parse(message) as { jobId?: unknown; documentId?: unknown };
    return typeof parsed.jobId === 'string' && typeof parsed.documentId === 'string' ? { jobId: parsed.jobId, documentId: parsed.documentId } : undefined;
  } catch {
    return undefined;
  }
}

import { randomUUID } from 'node:crypto';
import { FlowProducer, Job, Queue, Worker, type JobJson } from 'bullmq';
import { Redis } from 'ioredis';
import { ReamError, type ErrorInfo } from '../errors.ts';
import { redactUrl } from '../url.ts';
import { BullmqKeys, bullmqJobIdOf, queueNameOf } from './bullmq-keys.ts';
import { LeaseSweeper } from './bullmq-leases.ts';
import { PrefetchBuffer, type Prefetched } from './bullmq-prefetch.ts';
import { BullmqRedis } from './bullmq-redis.ts';
import { attemptsOf, isLostLease, leasedFromJob, prepareTask, type KeepFinished, type PreparedTask, type TaskData, type TaskJob } from './bullmq-task.ts';
import type { ClaimOptions, FailOutcome, LeasedTask, NewTask, TaskQueue, TaskStatus } from './port.ts';
import { Wakeups } from './wakeups.ts';

export interface BullmqQueueOptions {
  /** redis://… URL. */
  url: string;
  /** Key prefix for every key (BullMQ `prefix`); default 'ream'. Processes sharing work share it. */
  prefix?: string;
  /**
   * How long finished tasks stay in Redis (BullMQ removeOnComplete/removeOnFail): age in ms,
   * default 24 h each, and at most `maxCount` per kind and outcome, default 100,000. Shorter
   * saves memory; dedupe by task id does not depend on it (see `bookkeepingTtlMs`).
   */
  retention?: { completedAgeMs?: number; failedAgeMs?: number; maxCount?: number };
  /**
   * How often this process checks for expired leases, in ms; default 5,000. A crashed worker's
   * task is re-queued at most this long after its lease ran out; lower costs one Redis round trip
   * per queue and interval in every process.
   */
  stalledCheckMs?: number;
  /**
   * How long a task that `complete` fetched ahead waits for a claim before it is given back, in
   * ms; default 100. Only leases of at least ten times this are fetched ahead. Tests lengthen it
   * to look at a fetched-ahead task before it goes back.
   */
  prefetchHoldMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1_000;
const STATUSES: readonly TaskStatus[] = ['waiting', 'queued', 'leased', 'completed', 'failed', 'cancelled'];
/** BullMQ states → port statuses ("delayed" is still `queued` in the port: it has a future runAt). */
const STATUS_OF_STATE: Record<string, TaskStatus> = {
  wait: 'queued',
  waiting: 'queued',
  paused: 'queued',
  prioritized: 'queued',
  delayed: 'queued',
  'waiting-children': 'waiting',
  active: 'leased',
  completed: 'completed',
  failed: 'failed',
};
const COUNTED_STATES = ['wait', 'prioritized', 'delayed', 'waiting-children', 'active', 'completed', 'failed'] as const;
/** A task given back keeps its lease this long while it moves back to its queue. */
const GIVE_BACK_HOLD_MS = 10_000;
/**
 * A job fetched ahead by `complete` waits this long for a claim before it is given back. Only
 * leases of at least ten times this are fetched ahead (see PrefetchBuffer.wants).
 */
const PREFETCH_HOLD_MS = 100;
/** At most this many fetched-ahead jobs wait per (kind, leaseMs): about one per busy claimer. */
const PREFETCH_MAX = 64;

/** A lease this process handed out: the BullMQ job behind it and the lease length it asked for. */
interface Lease {
  job: TaskJob;
  leaseMs: number;
}

/**
 * The queue port on BullMQ (distributed mode, DESIGN.md §5). One BullMQ queue per task kind, so
 * `claim({ kinds })` is honoured; claims are pulled with manual `Worker.getNextJob` (the lease
 * token is BullMQ's lock token, `leaseMs` its lock duration), flows are BullMQ flows.
 *
 * Beside BullMQ, ream keeps per job the ids of every task ever enqueued (dedupe that outlives
 * BullMQ's retention, `cancelJob`, `counts(jobId)`), a cancelled marker, and pub/sub channels
 * `<prefix>:work` (wakes idle workers in every process) and `<prefix>:cancel` (`onJobCancelled`).
 *
 * Claim order: within a kind, higher priority first, then the order tasks became due (a batch is
 * sorted by `runAt` before it is added, and a delayed task joins its priority when due). Across
 * kinds, a claim peeks at each queue's head and takes from the queue whose best task has the
 * highest priority; un-prioritized BullMQ entries rank first, as BullMQ serves them first within
 * their queue. A task given back (released, or fetched ahead and unclaimed) returns to the front
 * of its priority.
 *
 * Fetching ahead: like a raw BullMQ worker, `complete` asks BullMQ for the next job of the same
 * kind in the same script call, and the next `claim` of that (kind, leaseMs) in this process
 * takes it without a round trip (bullmq-prefetch.ts). The price: a task enqueued with a higher
 * priority (or of another kind claimed by a claim without `kinds`) can be served at most one task
 * later per busy claimer; a fetched job counts as `queued`, not `leased`, in this process's
 * `counts` (another process sees it as leased for the few ms it waits); one no claim takes
 * within 100 ms is given back, as are all on `close` and when their job is cancelled (by this
 * process, or by another through `<prefix>:cancel`: then the given-back tasks are cancelled
 * here, after the canceller's count). If this process dies with one fetched, the task comes back
 * through the lease sweep as any other task of a dead worker, its attempt counted.
 *
 * Dedupe is by (jobId, task id); an id reused under another job dedupes only while BullMQ still
 * holds the first task.
 */
export class BullmqQueue implements TaskQueue {
  readonly name = 'bullmq';
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #keys: BullmqKeys;
  readonly #ops: BullmqRedis;
  readonly #keep: KeepFinished;
  readonly #retentionMs: number;
  /** Bookkeeping outlives the tasks it describes: the longest retention plus a week. */
  readonly #bookkeepingTtlMs: number;
  readonly #queues = new Map<string, Queue<TaskData, unknown, string>>();
  readonly #workers = new Map<string, Worker<TaskData, unknown, string>>();
  #flows: FlowProducer | undefined;
  readonly #kinds = new Set<string>();
  readonly #wakeups = new Wakeups();
  readonly #sweeper: LeaseSweeper;
  readonly #leases = new WeakMap<LeasedTask, Lease>();
  readonly #prefetch: PrefetchBuffer;
  readonly #expiryListeners = new Set<(task: LeasedTask, error: ErrorInfo) => void>();
  readonly #cancelListeners = new Set<(jobId: string) => void>();
  #closed = false;

  private constructor(redis: Redis, subscriber: Redis, options: BullmqQueueOptions) {
    this.#redis = redis;
    this.#subscriber = subscriber;
    this.#keys = new BullmqKeys(options.prefix ?? 'ream');
    this.#ops = new BullmqRedis(redis, this.#keys);
    const completedAgeMs = options.retention?.completedAgeMs ?? DAY_MS;
    const failedAgeMs = options.retention?.failedAgeMs ?? DAY_MS;
    const count = options.retention?.maxCount ?? 100_000;
    // BullMQ counts ages in seconds.
    this.#keep = {
      removeOnComplete: { age: Math.ceil(completedAgeMs / 1_000), count },
      removeOnFail: { age: Math.ceil(failedAgeMs / 1_000), count },
    };
    this.#retentionMs = Math.max(completedAgeMs, failedAgeMs);
    this.#bookkeepingTtlMs = this.#retentionMs + 7 * DAY_MS;
    this.#sweeper = new LeaseSweeper({
      redis: this.#ops,
      intervalMs: options.stalledCheckMs ?? 5_000,
      kinds: () => this.#refreshKinds(),
      queueOf: (kind) => this.#queue(kind),
      onRequeued: () => this.#wakeups.notify(),
      onFailed: (task, error) => {
        for (const listener of this.#expiryListeners) listener(task, error);
      },
    });
    this.#prefetch = new PrefetchBuffer({
      holdMs: options.prefetchHoldMs ?? PREFETCH_HOLD_MS,
      maxPerKey: PREFETCH_MAX,
      giveBack: async ({ kind, job, token }) => {
        if (await this.#giveBack(kind, job, token)) await this.#announce([{ kind, runAt: 0 }], Date.now());
      },
    });
  }

  /** Connects to Redis and subscribes to the work and cancel channels. */
  static async open(options: BullmqQueueOptions): Promise<BullmqQueue> {
    // BullMQ requires `maxRetriesPerRequest: null` on connections its Workers use.
    const redis = new Redis(options.url, { maxRetriesPerRequest: null, lazyConnect: true });
    const subscriber = redis.duplicate();
    // Without a listener ioredis prints connection errors; the commands that fail reject anyway
    // (and BullMQ reports its own), so nothing is lost by not printing them.
    for (const connection of [redis, subscriber]) connection.on('error', () => undefined);
    try {
      await redis.connect();
      await subscriber.connect();
    } catch (error) {
      redis.disconnect();
      subscriber.disconnect();
      throw new ReamError('io_error', `cannot connect to Redis at ${redactUrl(options.url)}`, { cause: error });
    }
    const queue = new BullmqQueue(redis, subscriber, options);
    await queue.#listen();
    return queue;
  }

  async enqueue(tasks: readonly NewTask[]): Promise<number> {
    const now = Date.now();
    const prepared = uniqueById(tasks.map((task) => prepareTask(task, now, this.#keep)));
    if (prepared.length === 0) return 0;
    // "enqueue dedupes by task id: a task whose id exists already (in any state) is not added
    // again" — BullMQ forgets ids once retention removes a job, ream's bookkeeping does not.
    const known = await this.#ops.knownTasks(prepared.map((p) => ({ id: p.data.taskId, jobId: p.data.jobId })));
    // Stable sort: within one priority BullMQ serves in insertion order, so runAt order holds.
    const fresh = prepared.filter((_, i) => !known[i]).sort((a, b) => a.runAt - b.runAt);
    if (fresh.length === 0) return 0;
    await this.#registerKinds(fresh);
    const byQueue = Map.groupBy(fresh, (p) => p.kind);
    await Promise.all([...byQueue].map(([kind, group]) => this.#queue(kind).addBulk(group.map((p) => ({ name: p.kind, data: p.data, opts: p.opts })))));
    const recorded = await this.#record(fresh);
    await this.#announce(fresh, now);
    return recorded;
  }

  async enqueueFlow(parent: NewTask, children: readonly NewTask[]): Promise<void> {
    const now = Date.now();
    const parentTask = prepareTask(parent, now, this.#keep);
    const childTasks = uniqueById(children.map((child) => prepareTask(child, now, this.#keep, parent.id))).filter((c) => c.data.taskId !== parent.id);
    const known = await this.#ops.knownTasks([parentTask, ...childTasks].map((p) => ({ id: p.data.taskId, jobId: p.data.jobId })));
    if (known[0]) return; // the flow exists already (dedupe by the parent's id)
    // "The parent waits for the children this call added; with none it is queued."
    const fresh = childTasks.filter((_, i) => !known[i + 1]);
    if (fresh.length === 0) {
      await this.enqueue([parent]);
      return;
    }
    await this.#registerKinds([parentTask, ...fresh]);
    await this.#flowProducer().add({
      name: parentTask.kind,
      queueName: parentTask.queueName,
      data: parentTask.data,
      opts: parentTask.opts,
      // "A failed child never leaves its parent stuck": on a final failure BullMQ moves the
      // child to its parent's ignored dependencies, and the parent goes on when none is pending.
      children: fresh.map((c) => ({ name: c.kind, queueName: c.queueName, data: c.data, opts: { ...c.opts, ignoreDependencyOnFailure: true } })),
    });
    await this.#record([parentTask, ...fresh]);
    await this.#announce(fresh, now);
  }

  async claim(options: ClaimOptions): Promise<LeasedTask | undefined> {
    if (options.kinds?.length === 0) return undefined;
    await this.#sweeper.sweepIfDue();
    const fetched = this.#prefetch.take(options.kinds, options.leaseMs);
    if (fetched) return this.#lease(fetched.job, fetched.token, options.leaseMs, fetched.fetchedAt);
    const kinds = (options.kinds ?? [...this.#kinds]).filter((kind) => this.#kinds.has(kind));
    for (const kind of await this.#rank(kinds)) {
      const token = randomUUID();
      const started = Date.now();
      const job = (await this.#worker(kind, options.leaseMs).getNextJob(token, { block: false })) as TaskJob | undefined;
      if (job) return this.#lease(job, token, options.leaseMs, started);
    }
    return undefined;
  }

  async extendLease(task: LeasedTask, leaseMs: number): Promise<boolean> {
    const started = Date.now();
    const job = await this.#jobOf(task);
    if (!job || (await job.extendLock(task.leaseToken, leaseMs)) !== 1) return false;
    task.leaseUntil = started + leaseMs;
    return true;
  }

  async release(task: LeasedTask): Promise<boolean> {
    const job = await this.#jobOf(task);
    if (!job || !(await this.#giveBack(task.kind, job, task.leaseToken))) return false;
    await this.#announce([{ kind: task.kind, runAt: 0 }], Date.now());
    return true;
  }

  async complete(task: LeasedTask): Promise<boolean> {
    // Only a lease handed out here knows its Worker (whose lock duration the fetched job gets).
    const lease = this.#leases.get(task);
    const job = lease?.job ?? (await this.#jobOf(task));
    if (!job) return false;
    const fetchNext = lease !== undefined && this.#prefetch.wants(task.kind, lease.leaseMs);
    const fetchedAt = Date.now();
    const next = await lockChecked(() => job.moveToCompleted(null, task.leaseToken, fetchNext));
    if (next === LOST) return false;
    if (fetchNext) this.#keepFetched(next, { kind: task.kind, token: task.leaseToken, leaseMs: lease.leaseMs, fetchedAt });
    if (task.parentId !== undefined) await this.#announceParent();
    return true;
  }

  async fail(task: LeasedTask, error: ErrorInfo, retryDelayMs?: number): Promise<FailOutcome> {
    const job = await this.#jobOf(task);
    if (!job) return 'lost';
    const retry = retryDelayMs !== undefined && attemptsOf(job) < job.data.maxAttempts && !(await this.#ops.isJobCancelled(task.jobId));
    if (retry) {
      const at = Date.now() + Math.max(0, retryDelayMs);
      if ((await lockChecked(() => job.moveToDelayed(at, task.leaseToken))) === LOST) return 'lost';
      this.#wakeups.notifyAt(at);
      return 'retrying';
    }
    if ((await lockChecked(() => job.moveToFailed(new Error(`${error.code}: ${error.message}`), task.leaseToken, false))) === LOST) return 'lost';
    if (task.parentId !== undefined) await this.#announceParent();
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

  async cancelJob(jobId: string): Promise<number> {
    // Marked first: from here on a leased task's `fail` answers 'failed', never 'retrying'.
    await this.#ops.markJobCancelled(jobId, this.#bookkeepingTtlMs);
    await this.#prefetch.drain((fetched) => fetched.job.data.jobId === jobId);
    const removed = await this.#cancelQueued(jobId);
    await this.#ops.publish(this.#keys.cancelChannel, jobId);
    return removed;
  }

  /** Removes the job's queued and waiting tasks from BullMQ and records them as cancelled. */
  async #cancelQueued(jobId: string): Promise<number> {
    const already = await this.#ops.cancelledTaskIds(jobId);
    const tasks = [...(await this.#ops.jobTasks(jobId))].filter(([id]) => !already.has(id));
    const states = await Promise.all(tasks.map(([id, kind]) => this.#queue(kind).getJobState(bullmqJobIdOf(id))));
    const status = (i: number): TaskStatus | undefined => STATUS_OF_STATE[states[i] ?? ''];
    // Parents go first: removing a flow's last child first would release its parent to workers.
    const order = [...tasks.keys()].filter((i) => status(i) === 'waiting').concat([...tasks.keys()].filter((i) => status(i) === 'queued'));
    const removed: string[] = [];
    for (const i of order) {
      const [id, kind] = tasks[i] as [string, string];
      // 0 when a worker claimed it meanwhile: leased tasks finish on their own and are not counted.
      if ((await this.#queue(kind).remove(bullmqJobIdOf(id), { removeChildren: false })) === 1) removed.push(id);
    }
    await this.#ops.recordCancelledTasks(jobId, removed, this.#bookkeepingTtlMs);
    return removed.length;
  }

  /** Another process cancelled a job: tasks of it fetched ahead here are cancelled too. */
  async #cancelFetched(jobId: string): Promise<void> {
    if ((await this.#prefetch.drain((fetched) => fetched.job.data.jobId === jobId)) > 0) await this.#cancelQueued(jobId);
  }

  async counts(jobId?: string): Promise<Record<TaskStatus, number>> {
    const counts = Object.fromEntries(STATUSES.map((status) => [status, 0])) as Record<TaskStatus, number>;
    if (jobId === undefined) {
      const perQueue = await Promise.all([...(await this.#refreshKinds())].map((kind) => this.#queue(kind).getJobCounts(...COUNTED_STATES)));
      for (const byState of perQueue) for (const [state, n] of Object.entries(byState)) add(counts, STATUS_OF_STATE[state], n);
      // Fetched ahead here (active in BullMQ) but not claimed: still queued for users.
      const fetched = this.#prefetch.taskIds().size;
      counts.leased -= fetched;
      counts.queued += fetched;
      counts.cancelled = await this.#ops.cancelledTotal(this.#retentionMs);
      return counts;
    }
    const cancelled = await this.#ops.cancelledTaskIds(jobId);
    const tasks = [...(await this.#ops.jobTasks(jobId))].filter(([id]) => !cancelled.has(id));
    const states = await Promise.all(tasks.map(([id, kind]) => this.#queue(kind).getJobState(bullmqJobIdOf(id))));
    const fetched = this.#prefetch.taskIds();
    // 'unknown': removed by retention, no longer counted (as SqlQueue's purged tasks).
    states.forEach((state, i) => add(counts, fetched.has(tasks[i]?.[0] ?? '') ? 'queued' : STATUS_OF_STATE[state], 1));
    counts.cancelled = cancelled.size;
    return counts;
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
    await this.#sweeper.close();
    await Promise.all([...this.#workers.values()].map((worker) => worker.close()));
    await Promise.all([...this.#queues.values()].map((queue) => queue.close()));
    await this.#flows?.close();
    await Promise.all([this.#subscriber.quit(), this.#redis.quit()]);
  }

  async #listen(): Promise<void> {
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#keys.cancelChannel) {
        // On failure (Redis gone) the fetched tasks' locks run out and the sweep queues them again.
        void this.#cancelFetched(message).catch(() => undefined);
        for (const listener of this.#cancelListeners) listener(message);
        return;
      }
      for (const kind of parseKinds(message)) this.#kinds.add(kind);
      this.#wakeups.notify();
    });
    await this.#subscriber.subscribe(this.#keys.workChannel, this.#keys.cancelChannel);
    await this.#refreshKinds();
  }

  async #refreshKinds(): Promise<Set<string>> {
    for (const kind of await this.#ops.listKinds()) this.#kinds.add(kind);
    return this.#kinds;
  }

  async #registerKinds(tasks: readonly PreparedTask[]): Promise<void> {
    const unknown = [...new Set(tasks.map((p) => p.kind))].filter((kind) => !this.#kinds.has(kind));
    await this.#ops.registerKinds(unknown);
    for (const kind of unknown) this.#kinds.add(kind);
  }

  async #record(tasks: readonly PreparedTask[]): Promise<number> {
    const recorded = await this.#ops.recordTasks(
      tasks.map((p) => ({ id: p.data.taskId, jobId: p.data.jobId, kind: p.kind })),
      this.#bookkeepingTtlMs,
    );
    return recorded.filter(Boolean).length;
  }

  /** Wakes waiters here at once (or when the earliest task is due), and elsewhere if due now. */
  async #announce(tasks: readonly { kind: string; runAt: number }[], now: number): Promise<void> {
    const earliest = Math.min(...tasks.map((task) => task.runAt));
    this.#wakeups.notifyAt(earliest, now);
    if (earliest <= now) await this.#ops.publish(this.#keys.workChannel, JSON.stringify([...new Set(tasks.map((task) => task.kind))]));
  }

  /** A flow child ended: its parent may be claimable now (BullMQ released it if it was the last). */
  async #announceParent(): Promise<void> {
    this.#wakeups.notify();
    await this.#ops.publish(this.#keys.workChannel, '[]');
  }

  /** Claim order across kinds: see the class comment. Queues with nothing claimable are skipped. */
  async #rank(kinds: readonly string[]): Promise<string[]> {
    if (kinds.length <= 1) return [...kinds];
    const heads = await this.#ops.queueHeads(kinds.map(queueNameOf));
    const rankOf = (i: number): number => {
      const head = heads[i];
      if (!head) return Infinity;
      if (head.waiting) return 0;
      if (head.bestPriority !== undefined) return head.bestPriority;
      return head.delayedDue ? Number.MAX_SAFE_INTEGER : Infinity;
    };
    return [...kinds.keys()]
      .filter((i) => rankOf(i) !== Infinity)
      .sort((a, b) => rankOf(a) - rankOf(b))
      .map((i) => kinds[i] as string);
  }

  /** The BullMQ job behind a lease: the one the claim returned, or loaded again for a copy. */
  async #jobOf(task: LeasedTask): Promise<TaskJob | undefined> {
    const cached = this.#leases.get(task);
    if (cached) return cached.job;
    return Job.fromId<TaskData, unknown, string>(this.#queue(task.kind), bullmqJobIdOf(task.id));
  }

  #lease(job: TaskJob, token: string, leaseMs: number, lockedAt: number): LeasedTask {
    const task = leasedFromJob(job, token, lockedAt + leaseMs);
    this.#leases.set(task, { job, leaseMs });
    return task;
  }

  /**
   * Buffers the job `moveToCompleted` fetched, locked with the completed task's token: a token
   * only proves ownership of one job's lock, so sharing it across jobs lets no one in.
   */
  #keepFetched(next: unknown, from: Omit<Prefetched, 'job'>): void {
    // BullMQ answers [job hash, job id, rate-limit delay, next delayed time], no hash when empty.
    if (!Array.isArray(next) || !next[0]) return;
    const [json, id] = next as [JobJson, string];
    const job = Job.fromJSON<TaskData, unknown, string>(this.#worker(from.kind, from.leaseMs), json, id);
    this.#prefetch.put({ ...from, job });
  }

  /**
   * Queues a leased job again at once, its start not counted as an attempt (a release, or a job
   * fetched ahead that no claim took). `false` when the lease was no longer ours. Both commands
   * go out together: the first checks the lock and holds it, so the move finds it.
   */
  async #giveBack(kind: string, job: TaskJob, token: string): Promise<boolean> {
    const uncounted = this.#ops.uncountStart(queueNameOf(kind), bullmqJobIdOf(job.data.taskId), token, GIVE_BACK_HOLD_MS);
    const moved = lockChecked(() => job.moveToWait(token));
    const [ours, result] = await Promise.all([uncounted, moved]);
    return ours && result !== LOST;
  }

  #queue(kind: string): Queue<TaskData, unknown, string> {
    let queue = this.#queues.get(kind);
    if (!queue) {
      queue = new Queue<TaskData, unknown, string>(queueNameOf(kind), { connection: this.#redis, prefix: this.#keys.prefix, skipVersionCheck: true });
      this.#queues.set(kind, queue);
    }
    return queue;
  }

  /** One manual Worker per (kind, leaseMs): BullMQ's lock duration is a Worker option. */
  #worker(kind: string, leaseMs: number): Worker<TaskData, unknown, string> {
    const key = `${kind}\n${leaseMs}`;
    let worker = this.#workers.get(key);
    if (!worker) {
      worker = new Worker<TaskData, unknown, string>(queueNameOf(kind), null, {
        connection: this.#redis,
        prefix: this.#keys.prefix,
        lockDuration: leaseMs,
        autorun: false,
        skipVersionCheck: true,
      });
      this.#workers.set(key, worker);
    }
    return worker;
  }

  #flowProducer(): FlowProducer {
    this.#flows ??= new FlowProducer({ connection: this.#redis, prefix: this.#keys.prefix, skipVersionCheck: true });
    return this.#flows;
  }
}

/** What `lockChecked` answers when the lease was no longer ours. */
const LOST = Symbol('lost lease');

/** Runs a lock-checked BullMQ move and returns its answer, or LOST. */
async function lockChecked<T>(move: () => Promise<T>): Promise<T | typeof LOST> {
  try {
    return await move();
  } catch (error) {
    if (isLostLease(error)) return LOST;
    throw error;
  }
}

function uniqueById(tasks: PreparedTask[]): PreparedTask[] {
  const seen = new Set<string>();
  return tasks.filter((p) => !seen.has(p.data.taskId) && seen.add(p.data.taskId));
}

function add(counts: Record<TaskStatus, number>, status: TaskStatus | undefined, n: number): void {
  if (status !== undefined) counts[status] += n;
}

function parseKinds(message: string): string[] {
  try {
    const parsed: unknown = JSON.parse(message);
    return Array.isArray(parsed) ? parsed.filter((kind): kind is string => typeof kind === 'string') : [];
  } catch {
    return []; // not ours: still a reason to look for work
  }
}


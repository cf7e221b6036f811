import { randomUUID } from 'node:crypto';
import { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ReamError, type ErrorInfo } from '../errors.ts';
import { redactUrl } from '../url.ts';
import { BullmqHandles } from './bullmq-handles.ts';
import { BullmqKeys, bullmqJobIdOf, queueNameOf } from './bullmq-keys.ts';
import { LeaseSweeper } from './bullmq-leases.ts';
import { Prefetcher } from './bullmq-prefetch.ts';
import { TaskRecords } from './bullmq-records.ts';
import { BullmqRedis } from './bullmq-redis.ts';
import { attemptsOf, isLostLease, leasedFromJob, parentOf, prepareTask, refOf, type KeepFinished, type PreparedTask, type TaskJob } from './bullmq-task.ts';
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
   * saves memory; dedupe by task id and `counts(jobId)` do not depend on it (ream's records last
   * the longest retention plus a week).
   */
  retention?: { completedAgeMs?: number; failedAgeMs?: number; maxCount?: number };
  /**
   * How often this process checks for expired leases, in ms; default 5,000. A crashed worker's
   * task is re-queued at most this long after its lease ran out; lower costs one Redis round trip
   * per queue and interval in every process.
   */
  stalledCheckMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1_000;
const STATUSES: readonly TaskStatus[] = ['waiting', 'queued', 'leased', 'completed', 'failed', 'cancelled'];
/** BullMQ states → port statuses ("delayed" is still `queued` in the port: it has a future runAt). */
const STATUS_OF_STATE: Partial<Record<string, TaskStatus>> = {
  wait: 'queued',
  prioritized: 'queued',
  delayed: 'queued',
  'waiting-children': 'waiting',
  active: 'leased',
  completed: 'completed',
  failed: 'failed',
};
const COUNTED_STATES = ['wait', 'prioritized', 'delayed', 'waiting-children', 'active', 'completed', 'failed'] as const;
/** A task moved by this process keeps its lock at least this long while BullMQ's move follows. */
const MOVE_HOLD_MS = 10_000;

/** A lease this process handed out: its BullMQ job, the lease length, and its `leased` record. */
interface Lease {
  job: TaskJob;
  leaseMs: number;
  recorded: Promise<unknown>;
}

/**
 * The queue port on BullMQ (distributed mode, DESIGN.md §5). One BullMQ queue per task kind, so
 * `claim({ kinds })` is honoured; claims are pulled with manual `Worker.getNextJob` (the lease
 * token is BullMQ's lock token, `leaseMs` its lock duration), flows are BullMQ flows. This class
 * orchestrates; the parts are BullmqHandles (BullMQ objects), TaskRecords (ream's records and
 * counters in Redis, the channels), Prefetcher (jobs fetched ahead), LeaseSweeper (lease
 * expiry) and BullmqRedis (the few reads of BullMQ's keys its API lacks).
 *
 * Every move of a task is recorded with its new status (see `#recordedMove`), so `counts(jobId)`
 * is one read of the job's counters and `cancelJob` knows the queued tasks without asking BullMQ.
 *
 * Claim order: within a kind, higher priority first, then the order tasks became due (a batch is
 * sorted by `runAt` before it is added, and a delayed task joins its priority when due). Across
 * kinds, a claim peeks at each queue's head and takes from the queue whose best task has the
 * highest priority; un-prioritized BullMQ entries rank first, as BullMQ serves them first within
 * their queue. A task given back (released, or fetched ahead and unclaimed) returns to the front
 * of its priority. A fetched-ahead task (bullmq-prefetch.ts) can be served at most one task
 * before a higher-priority newcomer per busy claimer; it stays `queued` until a claim takes it,
 * and when this process dies holding it, it comes back through the lease sweep, attempt counted.
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
  readonly #records: TaskRecords;
  readonly #handles: BullmqHandles;
  readonly #keep: KeepFinished;
  readonly #retentionMs: number;
  readonly #kinds = new Set<string>();
  readonly #wakeups = new Wakeups();
  readonly #sweeper: LeaseSweeper;
  readonly #leases = new WeakMap<LeasedTask, Lease>();
  readonly #prefetch: Prefetcher;
  readonly #expiryListeners = new Set<(task: LeasedTask, error: ErrorInfo) => void>();
  readonly #cancelListeners = new Set<(jobId: string) => void>();
  #closed = false;

  private constructor(redis: Redis, subscriber: Redis, options: BullmqQueueOptions) {
    this.#redis = redis;
    this.#subscriber = subscriber;
    this.#keys = new BullmqKeys(options.prefix ?? 'ream');
    this.#ops = new BullmqRedis(redis, this.#keys);
    this.#handles = new BullmqHandles(redis, this.#keys.prefix);
    const completedAgeMs = options.retention?.completedAgeMs ?? DAY_MS;
    const failedAgeMs = options.retention?.failedAgeMs ?? DAY_MS;
    const count = options.retention?.maxCount ?? 100_000;
    // BullMQ counts ages in seconds.
    this.#keep = {
      removeOnComplete: { age: Math.ceil(completedAgeMs / 1_000), count },
      removeOnFail: { age: Math.ceil(failedAgeMs / 1_000), count },
    };
    this.#retentionMs = Math.max(completedAgeMs, failedAgeMs);
    // The records outlive the tasks they describe: the longest retention plus a week.
    this.#records = new TaskRecords(redis, this.#keys, this.#retentionMs + 7 * DAY_MS);
    this.#sweeper = new LeaseSweeper({
      redis: this.#ops,
      intervalMs: options.stalledCheckMs ?? 5_000,
      kinds: () => this.#refreshKinds(),
      queueOf: (kind) => this.#handles.queue(kind),
      transition: async (job, to, token, move) => {
        if ((await this.#recordedMove(job, to, token, move)) === LOST) return false;
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
      workerOf: (kind, leaseMs) => this.#handles.worker(kind, leaseMs),
      giveBack: async ({ kind, job, token }) => {
        if (await this.#giveBack(job, token)) await this.#announce([{ kind, runAt: 0 }], Date.now());
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
    // again" — BullMQ forgets ids once retention removes a job, ream's records do not.
    const known = await this.#records.knownTasks(prepared.map((p) => ({ id: p.data.taskId, jobId: p.data.jobId })));
    // Stable sort: within one priority BullMQ serves in insertion order, so runAt order holds.
    const fresh = prepared.filter((_, i) => !known[i]).sort((a, b) => a.runAt - b.runAt);
    if (fresh.length === 0) return 0;
    await this.#registerKinds(fresh);
    const byQueue = Map.groupBy(fresh, (p) => p.kind);
    await Promise.all([...byQueue].map(([kind, group]) => this.#handles.queue(kind).addBulk(group.map((p) => ({ name: p.kind, data: p.data, opts: p.opts })))));
    // Recorded after BullMQ has them: a crash in between leaves tasks BullMQ still dedupes, never
    // a record of a task that does not exist. Concurrent enqueues of one id count it once.
    const recorded = await this.#records.record(fresh.map((p) => ({ ...refOfPrepared(p), status: 'queued' })));
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
    await this.#registerKinds([parentTask, ...fresh]);
    await this.#handles.flows().add({
      name: parentTask.kind,
      queueName: parentTask.queueName,
      data: parentTask.data,
      opts: parentTask.opts,
      // "A failed child never leaves its parent stuck": on a final failure BullMQ moves the
      // child to its parent's ignored dependencies, and the parent goes on when none is pending.
      children: fresh.map((c) => ({ name: c.kind, queueName: c.queueName, data: c.data, opts: { ...c.opts, ignoreDependencyOnFailure: true } })),
    });
    await this.#records.record([{ ...refOfPrepared(parentTask), status: 'waiting' }, ...fresh.map((c) => ({ ...refOfPrepared(c), status: 'queued' as const }))]);
    await this.#announce(fresh, now);
  }

  async claim(options: ClaimOptions): Promise<LeasedTask | undefined> {
    if (options.kinds?.length === 0) return undefined;
    await this.#sweeper.sweepIfDue();
    // Taken without a round trip: its `leased` record goes out now, and whoever ends the lease
    // waits for it (commands on one connection run in order, so no read here can pass it).
    const fetched = this.#prefetch.take(options.kinds, options.leaseMs);
    if (fetched) return this.#lease(fetched.job, fetched.token, options.leaseMs, fetched.fetchedAt);
    const kinds = (options.kinds ?? [...this.#kinds]).filter((kind) => this.#kinds.has(kind));
    for (const kind of await this.#rank(kinds)) {
      const token = randomUUID();
      const started = Date.now();
      const job = (await this.#handles.worker(kind, options.leaseMs).getNextJob(token, { block: false })) as TaskJob | undefined;
      if (!job) continue;
      const task = this.#lease(job, token, options.leaseMs, started);
      await this.#leases.get(task)?.recorded;
      return task;
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
    if (!job || !(await this.#giveBack(job, task.leaseToken, this.#leases.get(task)?.recorded))) return false;
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
    const next = await this.#recordedMove(job, 'completed', task.leaseToken, () => job.moveToCompleted(null, task.leaseToken, fetchNext), lease?.recorded);
    if (next === LOST) return false;
    if (fetchNext) this.#prefetch.keep(next, { kind: task.kind, token: task.leaseToken, leaseMs: lease.leaseMs, fetchedAt });
    await this.#childEnded(job);
    return true;
  }

  async fail(task: LeasedTask, error: ErrorInfo, retryDelayMs?: number): Promise<FailOutcome> {
    const lease = this.#leases.get(task);
    const job = lease?.job ?? (await this.#jobOf(task));
    if (!job) return 'lost';
    const { leaseToken: token } = task;
    const retry = retryDelayMs !== undefined && attemptsOf(job) < job.data.maxAttempts && !(await this.#records.isJobCancelled(task.jobId));
    if (retry) {
      const at = Date.now() + Math.max(0, retryDelayMs);
      if ((await this.#recordedMove(job, 'queued', token, () => job.moveToDelayed(at, token), lease?.recorded)) === LOST) return 'lost';
      this.#wakeups.notifyAt(at);
      return 'retrying';
    }
    const failure = new Error(`${error.code}: ${error.message}`);
    if ((await this.#recordedMove(job, 'failed', token, () => job.moveToFailed(failure, token, false), lease?.recorded)) === LOST) return 'lost';
    await this.#childEnded(job);
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
    if (jobId !== undefined) return this.#records.jobCounts(jobId);
    const counts = Object.fromEntries(STATUSES.map((status) => [status, 0])) as Record<TaskStatus, number>;
    const perQueue = await Promise.all([...(await this.#refreshKinds())].map((kind) => this.#handles.queue(kind).getJobCounts(...COUNTED_STATES)));
    for (const byState of perQueue) {
      for (const [state, n] of Object.entries(byState)) {
        const status = STATUS_OF_STATE[state];
        if (status !== undefined) counts[status] += n;
      }
    }
    // Fetched ahead here (active in BullMQ) but not claimed: still queued for users.
    counts.leased -= this.#prefetch.size;
    counts.queued += this.#prefetch.size;
    counts.cancelled = await this.#records.cancelledTotal(this.#retentionMs);
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
    await this.#handles.close();
    await Promise.all([this.#subscriber.quit(), this.#redis.quit()]);
  }

  /**
   * Records the task's move to `to` and sends BullMQ's lock-checked `move` right behind it on the
   * same connection: the record goes in only while the lock is `token`'s and holds the lock for
   * the move, so BullMQ finds it. When BullMQ refuses anyway (LOST) the record is reverted; when
   * the record found the lock gone but BullMQ moved (it can only mean the move ran first), the
   * record follows. `pending` is the lease's own `leased` record, still on its way.
   */
  async #recordedMove<T>(job: TaskJob, to: TaskStatus, token: string, move: () => Promise<T>, pending?: Promise<unknown>): Promise<T | typeof LOST> {
    const ref = refOf(job);
    const recorded = this.#records.move(ref, to, { bullmqJobId: job.id ?? bullmqJobIdOf(ref.id), token, holdMs: MOVE_HOLD_MS });
    const [, from, result] = await Promise.all([pending, recorded, lockChecked(move)]);
    if (result === LOST && from !== undefined) await this.#records.revert(ref, to, from);
    if (result !== LOST && from === undefined) await this.#records.move(ref, to);
    return result;
  }

  /** A flow child ended: its parent may be claimable now (BullMQ released it if it was the last). */
  async #childEnded(job: TaskJob): Promise<void> {
    const parent = parentOf(job);
    if (!parent) return;
    this.#wakeups.notify();
    await this.#records.childEnded(parent);
  }

  async #listen(): Promise<void> {
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#keys.cancelChannel) {
        // Tasks of that job fetched ahead here are given back and cancelled too. On failure
        // (Redis gone) their locks run out and the sweep queues them again.
        void this.#prefetch
          .drain(message)
          .then(async (drained) => {
            if (drained > 0) await this.#cancelQueued(message, false);
          })
          .catch(() => undefined);
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
    for (const kind of await this.#records.listKinds()) this.#kinds.add(kind);
    return this.#kinds;
  }

  async #registerKinds(tasks: readonly PreparedTask[]): Promise<void> {
    const unknown = [...new Set(tasks.map((p) => p.kind))].filter((kind) => !this.#kinds.has(kind));
    await this.#records.registerKinds(unknown);
    for (const kind of unknown) this.#kinds.add(kind);
  }

  /** Wakes waiters here at once (or when the earliest task is due), and elsewhere if due now. */
  async #announce(tasks: readonly { kind: string; runAt: number }[], now: number): Promise<void> {
    const earliest = Math.min(...tasks.map((task) => task.runAt));
    this.#wakeups.notifyAt(earliest, now);
    if (earliest <= now) await this.#records.announceWork([...new Set(tasks.map((task) => task.kind))]);
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
    return Job.fromId<TaskJob['data'], unknown, string>(this.#handles.queue(task.kind), bullmqJobIdOf(task.id));
  }

  #lease(job: TaskJob, token: string, leaseMs: number, lockedAt: number): LeasedTask {
    const task = leasedFromJob(job, token, lockedAt + leaseMs);
    const recorded = this.#records.move(refOf(job), 'leased', { bullmqJobId: job.id ?? bullmqJobIdOf(task.id), token, holdMs: 0 });
    // Awaited by whoever ends the lease; a copy of the lease is ended without it, so a failure
    // must not go unhandled here (the same connection fails the copy's own commands anyway).
    recorded.catch(() => undefined);
    this.#leases.set(task, { job, leaseMs, recorded });
    return task;
  }

  /**
   * Queues a leased job again at once, its start not counted as an attempt (a release, or a job
   * fetched ahead that no claim took). `false` when the lease was no longer ours. The commands go
   * out together: the first checks the lock and holds it, so the move finds it.
   */
  async #giveBack(job: TaskJob, token: string, pending?: Promise<unknown>): Promise<boolean> {
    const uncounted = this.#ops.uncountStart(queueNameOf(job.name), job.id ?? bullmqJobIdOf(job.data.taskId), token, MOVE_HOLD_MS);
    const moved = this.#recordedMove(job, 'queued', token, () => job.moveToWait(token), pending);
    const [ours, result] = await Promise.all([uncounted, moved]);
    return ours && result !== LOST;
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

function refOfPrepared(task: PreparedTask): { id: string; jobId: string; queueName: string } {
  return { id: task.data.taskId, jobId: task.data.jobId, queueName: task.queueName };
}

function uniqueById(tasks: PreparedTask[]): PreparedTask[] {
  const seen = new Set<string>();
  return tasks.filter((p) => !seen.has(p.data.taskId) && seen.add(p.data.taskId));
}

function parseKinds(message: string): string[] {
  try {
    const parsed: unknown = JSON.parse(message);
    return Array.isArray(parsed) ? parsed.filter((kind): kind is string => typeof kind === 'string') : [];
  } catch {
    return []; // not ours: still a reason to look for work
  }
}

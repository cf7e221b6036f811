import { Job } from 'bullmq';
import type { BullmqHandles } from './bullmq-handles.ts';
import { bullmqJobIdOf, queueNameOf } from './bullmq-keys.ts';
import type { TaskRecords } from './bullmq-records.ts';
import type { BullmqRedis } from './bullmq-redis.ts';
import { isLostLease, leasedFromJob, refOf, type TaskData, type TaskJob } from './bullmq-task.ts';
import type { LeasedTask, TaskStatus } from './port.ts';

/** A task moved by this process keeps its lock at least this long while BullMQ's move follows. */
const MOVE_HOLD_MS = 10_000;

/** What a move answers when the lease was no longer ours. */
export const LOST = Symbol('lost lease');

/** A lease this process handed out: its BullMQ job, the lease length, and its `leased` record. */
export interface Lease {
  job: TaskJob;
  leaseMs: number;
  /** Epoch ms the lease began (when the claim, or the fetch ahead, was sent). */
  leasedAt: number;
  /** Its `leased` record, on its way. */
  recorded: Promise<unknown>;
}

/**
 * The leases this process handed out, and every lock-checked move of a task: BullMQ's move with
 * the matching TaskRecords move sent right before it on the same connection (BullmqHandles puts
 * every BullMQ object on it, so they reach Redis in that order). The record goes in only while
 * the lock is the lease's token and holds the lock for the move, so BullMQ finds it; when BullMQ
 * refuses anyway the record is reverted, and when the record found the lock gone although BullMQ
 * moved (only possible if the move ran first) the record follows. Records and BullMQ thus agree
 * after every move; a process dying between the two leaves a lease that runs out, and the sweep's
 * own recorded move puts both right.
 */
export class LeaseMoves {
  readonly #records: TaskRecords;
  readonly #ops: BullmqRedis;
  readonly #handles: BullmqHandles;
  readonly #leases = new WeakMap<LeasedTask, Lease>();
  /** The `leased` record of each job object a lease here holds (one claim, one Job object). */
  readonly #recordedOf = new WeakMap<TaskJob, Promise<unknown>>();
  /** `leased` records not sent yet, by job object. */
  readonly #unsent = new Map<TaskJob, { send: () => Promise<void>; drop: () => void }>();
  #flushing: NodeJS.Immediate | undefined;

  constructor(records: TaskRecords, ops: BullmqRedis, handles: BullmqHandles) {
    this.#records = records;
    this.#ops = ops;
    this.#handles = handles;
  }

  /**
   * The port's lease on a job BullMQ just locked with `token`. Its `leased` record is held back
   * until the event loop's next turn (`flush`), and dropped if the lease ends first: the end's own
   * record then moves the task straight on, one script fewer for a task that took no time (no
   * read can fall in between: `counts` flushes first, and the turn is shorter than any round
   * trip another process could make). Whoever ends the lease awaits the record (`recorded`).
   */
  lease(job: TaskJob, token: string, leaseMs: number, lockedAt: number): LeasedTask {
    const task = leasedFromJob(job, token, lockedAt + leaseMs);
    const recorded = Promise.withResolvers<unknown>();
    // A copy of the lease is ended without awaiting it, so a failure must not go unhandled here
    // (the same connection fails the copy's own commands anyway).
    recorded.promise.catch(() => undefined);
    this.#unsent.set(job, {
      send: () => this.#records.move(refOf(job), 'leased', { bullmqJobId: jobIdOf(job), token, holdMs: 0 }).then(recorded.resolve, recorded.reject),
      drop: () => recorded.resolve(undefined),
    });
    this.#flushing ??= setImmediate(() => this.flush());
    this.#leases.set(task, { job, leaseMs, leasedAt: lockedAt, recorded: recorded.promise });
    this.#recordedOf.set(job, recorded.promise);
    return task;
  }

  /** Sends every `leased` record held back (see `lease`). */
  flush(): void {
    clearImmediate(this.#flushing);
    this.#flushing = undefined;
    const unsent = [...this.#unsent.values()];
    this.#unsent.clear();
    for (const { send } of unsent) void send();
  }

  /** The lease as handed out here; `undefined` for a copy, or a lease from another process. */
  leaseOf(task: LeasedTask): Lease | undefined {
    return this.#leases.get(task);
  }

  /** The BullMQ job behind a lease: the one the claim returned, or loaded again for a copy. */
  async jobOf(task: LeasedTask): Promise<TaskJob | undefined> {
    const cached = this.#leases.get(task);
    if (cached) return cached.job;
    return Job.fromId<TaskData, unknown, string>(this.#handles.queue(task.kind), bullmqJobIdOf(task.id));
  }

  /** Runs BullMQ's lock-checked `move` of the job leased with `token`, recording `to` with it. */
  async move<T>(job: TaskJob, to: TaskStatus, token: string, move: () => Promise<T>): Promise<T | typeof LOST> {
    const ref = refOf(job);
    this.#unsent.get(job)?.drop();
    this.#unsent.delete(job);
    const recorded = this.#records.move(ref, to, { bullmqJobId: jobIdOf(job), token, holdMs: MOVE_HOLD_MS });
    const [, from, result] = await Promise.all([this.#recordedOf.get(job), recorded, lockChecked(move)]);
    if (result === LOST && from !== undefined) await this.#records.revert(ref, to, from);
    if (result !== LOST && from === undefined) await this.#records.move(ref, to);
    return result;
  }

  /**
   * Queues a leased job again at once, its start not counted as an attempt (a release, or a job
   * fetched ahead that no claim took). `false` when the lease was no longer ours. The commands go
   * out together: the first checks the lock and holds it, so the move finds it.
   */
  async giveBack(job: TaskJob, token: string): Promise<boolean> {
    const uncounted = this.#ops.uncountStart(queueNameOf(job.name), jobIdOf(job), token, MOVE_HOLD_MS);
    const moved = this.move(job, 'queued', token, () => job.moveToWait(token));
    const [ours, result] = await Promise.all([uncounted, moved]);
    return ours && result !== LOST;
  }

}

function jobIdOf(job: TaskJob): string {
  return job.id ?? bullmqJobIdOf(job.data.taskId);
}

/** Runs a lock-checked BullMQ move and returns its answer, or LOST. */
async function lockChecked<T>(move: () => Promise<T>): Promise<T | typeof LOST> {
  try {
    return await move();
  } catch (error) {
    if (isLostLease(error)) return LOST;
    throw error;
  }
}

import { randomUUID } from 'node:crypto';
import { Job, type Queue } from 'bullmq';
import type { ErrorInfo } from '../errors.ts';
import { queueNameOf } from './bullmq-keys.ts';
import type { BullmqRedis } from './bullmq-redis.ts';
import { attemptsOf, type TaskData, type TaskJob } from './bullmq-task.ts';
import { LEASE_EXPIRED } from './port.ts';

/** How long a sweeper holds a taken-over lease while it moves the job (one or two round trips). */
const TAKEOVER_HOLD_MS = 30_000;

export interface LeaseSweeperOptions {
  redis: BullmqRedis;
  intervalMs: number;
  kinds: () => Promise<Iterable<string>>;
  queueOf: (kind: string) => Queue<TaskData, unknown, string>;
  /**
   * Runs BullMQ's lock-checked `move` of the job whose lease the sweep took over with `token`,
   * recording the task's new status with it; `false` when the lease was lost meanwhile.
   */
  transition: (job: TaskJob, to: 'queued' | 'failed', token: string, move: () => Promise<unknown>) => Promise<boolean>;
  /** A lease ran out with attempts left: the task is claimable again. */
  onRequeued: () => void;
  /** A lease ran out on the last attempt: the task failed for good. */
  onFailed: (job: TaskJob, error: ErrorInfo) => void;
}

/**
 * Crash recovery: "a lease that is not extended before `leaseUntil` expires: the task becomes
 * claimable again … If the expired lease was the task's last attempt, the task fails for good."
 *
 * BullMQ's own stalled check is not used: it needs two passes after a lock expired (detection
 * takes up to two intervals), and it fails a job after `maxStalledCount` stalls per worker rather
 * than on the task's own attempt budget. This sweep looks for active jobs without a lock, takes
 * each lease over atomically (one sweeper wins, the stale holder's calls then fail), and moves the
 * job with BullMQ's lock-checked API: back to the queue, or to failed (releasing a flow parent).
 * It runs every `intervalMs` in each process (each costs one round trip per queue): a process
 * cannot lean on another's sweep, whose interval may be much longer or which may be the one gone.
 */
export class LeaseSweeper {
  readonly #options: LeaseSweeperOptions;
  readonly #timer: NodeJS.Timeout;
  #running: Promise<void> | undefined;
  #lastAt = 0;

  constructor(options: LeaseSweeperOptions) {
    this.#options = options;
    this.#timer = setInterval(() => void this.sweepIfDue(), options.intervalMs);
    // Leases are only swept while the process has other work; the sweep never keeps it alive.
    this.#timer.unref();
  }

  /** Sweeps unless this process swept within the interval; joins a sweep already running. */
  sweepIfDue(): Promise<void> {
    if (this.#running) return this.#running;
    if (Date.now() - this.#lastAt < this.#options.intervalMs) return Promise.resolve();
    this.#lastAt = Date.now();
    this.#running = this.#sweep()
      // A failed sweep (Redis unreachable, queue closing) is retried on the next tick; claims and
      // completions meet the same error themselves, so nothing is hidden from the caller.
      .catch(() => undefined)
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Stops the timer and waits for a sweep in flight, so closing connections cannot cut it. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  async #sweep(): Promise<void> {
    const { redis, kinds } = this.#options;
    for (const kind of await kinds()) {
      for (const bullmqJobId of await redis.expiredLeases(queueNameOf(kind))) await this.#expire(kind, bullmqJobId);
    }
  }

  async #expire(kind: string, bullmqJobId: string): Promise<void> {
    const { redis, queueOf, transition, onRequeued, onFailed } = this.#options;
    const token = randomUUID();
    if (!(await redis.takeExpiredLease(queueNameOf(kind), bullmqJobId, token, TAKEOVER_HOLD_MS))) return;
    const job = await Job.fromId<TaskData, unknown, string>(queueOf(kind), bullmqJobId);
    if (!job) return;
    if (attemptsOf(job) < job.data.maxAttempts) {
      if (await transition(job, 'queued', token, () => job.moveToWait(token))) onRequeued();
      return;
    }
    const error = new Error(`${LEASE_EXPIRED.code}: ${LEASE_EXPIRED.message}`);
    if (await transition(job, 'failed', token, () => job.moveToFailed(error, token, false))) onFailed(job, LEASE_EXPIRED);
  }
}

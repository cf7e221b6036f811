import type { Redis } from 'ioredis';
import type { BullmqKeys } from './bullmq-keys.ts';

/** Delayed-set scores are `timestamp × 0x1000 + counter` (BullMQ's getDelayedScore). */
const DELAYED_SCORE_FACTOR = 0x1000;

/** KEYS: lock, job hash; ARGV: token, hold in ms. Checked and done in one step (see uncountStart). */
const UNCOUNT_START = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], 'ats', -1)
return 1`;

/** What a queue could hand out next, as far as a cheap peek can tell (see `queueHeads`). */
export interface QueueHead {
  queueName: string;
  /** Un-prioritized jobs (released flow parents, released tasks): BullMQ serves them first. */
  waiting: boolean;
  /** The best BullMQ priority number in the prioritized set, if any. */
  bestPriority: number | undefined;
  /** A delayed job is due (the next claim on this queue promotes it). */
  delayedDue: boolean;
}

/**
 * Every raw Redis command of the BullMQ adapter, in one place: ream's bookkeeping beside BullMQ
 * (dedupe sets, cancel markers, known kinds, pub/sub) and the few reads of BullMQ's own keys that
 * its API does not offer (lease expiry without its two-pass stalled check, queue heads). The rest
 * of the adapter speaks only BullMQ's API, so a different BullMQ backend would replace this file.
 */
export class BullmqRedis {
  readonly #redis: Redis;
  readonly #keys: BullmqKeys;

  constructor(redis: Redis, keys: BullmqKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  async registerKinds(kinds: readonly string[]): Promise<void> {
    if (kinds.length > 0) await this.#redis.sadd(this.#keys.kinds, ...kinds);
  }

  listKinds(): Promise<string[]> {
    return this.#redis.smembers(this.#keys.kinds);
  }

  /** Whether each task id was ever enqueued for its job (dedupe that outlives BullMQ retention). */
  async knownTasks(tasks: readonly { id: string; jobId: string }[]): Promise<boolean[]> {
    if (tasks.length === 0) return [];
    // One HMGET per job rather than one HEXISTS per task: a batch usually belongs to one job.
    const byJob = [...Map.groupBy(tasks, (task) => task.jobId)];
    const pipeline = this.#redis.pipeline();
    for (const [jobId, group] of byJob) pipeline.hmget(this.#keys.jobTasks(jobId), ...group.map((task) => task.id));
    const results = await execAll(pipeline);
    const known = new Set<{ id: string; jobId: string }>();
    byJob.forEach(([, group], i) => {
      const values = results[i] as (string | null)[];
      group.forEach((task, j) => values[j] !== null && known.add(task));
    });
    return tasks.map((task) => known.has(task));
  }

  /**
   * Records tasks as enqueued; `true` for each one recorded now (not by a concurrent enqueue).
   * The sets' expiry is refreshed on every write, so a live job's bookkeeping does not lapse.
   */
  async recordTasks(tasks: readonly { id: string; jobId: string; kind: string }[], ttlMs: number): Promise<boolean[]> {
    if (tasks.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const task of tasks) pipeline.hsetnx(this.#keys.jobTasks(task.jobId), task.id, task.kind);
    for (const jobId of new Set(tasks.map((task) => task.jobId))) pipeline.pexpire(this.#keys.jobTasks(jobId), ttlMs);
    return (await execAll(pipeline)).slice(0, tasks.length).map((result) => result === 1);
  }

  /** Task id → kind of every task enqueued for the job (within the bookkeeping TTL). */
  async jobTasks(jobId: string): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.#redis.hgetall(this.#keys.jobTasks(jobId))));
  }

  async markJobCancelled(jobId: string, ttlMs: number): Promise<void> {
    await this.#redis.set(this.#keys.jobCancelled(jobId), '1', 'PX', ttlMs);
  }

  async isJobCancelled(jobId: string): Promise<boolean> {
    return (await this.#redis.exists(this.#keys.jobCancelled(jobId))) === 1;
  }

  async recordCancelledTasks(jobId: string, taskIds: readonly string[], ttlMs: number): Promise<void> {
    if (taskIds.length === 0) return;
    const now = Date.now();
    await execAll(
      this.#redis
        .pipeline()
        .sadd(this.#keys.jobCancelledTasks(jobId), ...taskIds)
        .pexpire(this.#keys.jobCancelledTasks(jobId), ttlMs)
        .zadd(this.#keys.cancelledTasks, ...taskIds.flatMap((id) => [now, `${jobId}/${id}`])),
    );
  }

  async cancelledTaskIds(jobId: string): Promise<Set<string>> {
    return new Set(await this.#redis.smembers(this.#keys.jobCancelledTasks(jobId)));
  }

  /** Cancelled tasks over all jobs, forgetting those cancelled more than `retentionMs` ago. */
  async cancelledTotal(retentionMs: number): Promise<number> {
    const results = await execAll(
      this.#redis
        .pipeline()
        .zremrangebyscore(this.#keys.cancelledTasks, '-inf', `(${Date.now() - retentionMs}`)
        .zcard(this.#keys.cancelledTasks),
    );
    return Number(results[1] ?? 0);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.#redis.publish(channel, message);
  }

  /** Ids of the queue's active jobs whose lock key is gone: leases that ran out. */
  async expiredLeases(queueName: string): Promise<string[]> {
    const active = await this.#redis.lrange(this.#keys.bullmq(queueName, 'active'), 0, -1);
    if (active.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of active) pipeline.exists(this.#keys.bullmq(queueName, `${id}:lock`));
    const exists = await execAll(pipeline);
    return active.filter((_, i) => exists[i] === 0);
  }

  /**
   * Takes an expired lease over with `token`, so that exactly one sweeper (in any process) handles
   * it and the stale holder's lock-checked calls fail: the lock is set only if it is still
   * missing, and kept only if the job is still active (it may have ended since it was listed).
   */
  async takeExpiredLease(queueName: string, bullmqJobId: string, token: string, holdMs: number): Promise<boolean> {
    const lock = this.#keys.bullmq(queueName, `${bullmqJobId}:lock`);
    if ((await this.#redis.set(lock, token, 'PX', holdMs, 'NX')) !== 'OK') return false;
    if ((await this.#redis.lpos(this.#keys.bullmq(queueName, 'active'), bullmqJobId)) !== null) return true;
    await this.#redis.del(lock);
    return false;
  }

  /**
   * Takes back the start BullMQ counted (`ats`) when it moved the job to active, if the lock is
   * still `token`'s, and holds the lock `holdMs` for the move back to the queue that follows: a
   * task given back unfinished (released, or fetched ahead and never claimed) used no attempt.
   * `false` when the lease is no longer ours.
   */
  async uncountStart(queueName: string, bullmqJobId: string, token: string, holdMs: number): Promise<boolean> {
    const job = this.#keys.bullmq(queueName, bullmqJobId);
    return (await this.#redis.eval(UNCOUNT_START, 2, `${job}:lock`, job, token, holdMs)) === 1;
  }

  /** One round trip: what each queue could hand out next, for ranking queues by priority. */
  async queueHeads(queueNames: readonly string[], now = Date.now()): Promise<QueueHead[]> {
    const pipeline = this.#redis.pipeline();
    for (const name of queueNames) {
      pipeline.llen(this.#keys.bullmq(name, 'wait'));
      pipeline.zrange(this.#keys.bullmq(name, 'prioritized'), '0', '0', 'WITHSCORES');
      pipeline.zrangebyscore(this.#keys.bullmq(name, 'delayed'), '-inf', `(${(now + 1) * DELAYED_SCORE_FACTOR}`, 'LIMIT', 0, 1);
    }
    const results = await execAll(pipeline);
    return queueNames.map((queueName, i) => {
      const [waitLength, prioritized, due] = results.slice(i * 3, i * 3 + 3) as [number, string[], string[]];
      // Prioritized scores are `priority × 2³² + counter`.
      const score = prioritized[1];
      return {
        queueName,
        waiting: waitLength > 0,
        bestPriority: score === undefined ? undefined : Math.floor(Number(score) / 2 ** 32),
        delayedDue: due.length > 0,
      };
    });
  }
}

/** Runs a pipeline and fails on the first command error instead of returning it as a value. */
async function execAll(pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

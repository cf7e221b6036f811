import type { Redis } from 'ioredis';
import { queueNameOf, type BullmqKeys } from './bullmq-keys.ts';
import { execAll } from './bullmq-records.ts';
import type { TaskData } from './bullmq-task.ts';

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
  /** The BullMQ id of the prioritized set's first job, if any. */
  bestId: string | undefined;
  /** A delayed job is due (the next claim on this queue promotes it). */
  delayedDue: boolean;
}

/**
 * The few reads and writes of BullMQ's own keys (its documented layout, see BullmqKeys.bullmq)
 * that its API does not offer: lease expiry without its two-pass stalled check, taking back a
 * counted start, queue heads. ream's own keys are TaskRecords' (bullmq-records.ts); the rest of
 * the adapter speaks only BullMQ's API, so a different BullMQ backend would replace these two.
 */
export class BullmqRedis {
  readonly #redis: Redis;
  readonly #keys: BullmqKeys;

  constructor(redis: Redis, keys: BullmqKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /** Ids of the queue's active jobs whose lock key is gone: leases that ran out. */
  async expiredLeases(queueName: string): Promise<string[]> {
    const active = await this.#redis.lrange(this.#keys.bullmq(queueName, 'active'), 0, -1);
    if (active.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of active) pipeline.exists(this.#keys.lock(queueName, id));
    const exists = await execAll(pipeline);
    return active.filter((_, i) => exists[i] === 0);
  }

  /**
   * Takes an expired lease over with `token`, so that exactly one sweeper (in any process) handles
   * it and the stale holder's lock-checked calls fail: the lock is set only if it is still
   * missing, and kept only if the job is still active (it may have ended since it was listed).
   */
  async takeExpiredLease(queueName: string, bullmqJobId: string, token: string, holdMs: number): Promise<boolean> {
    const lock = this.#keys.lock(queueName, bullmqJobId);
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
        bestId: prioritized[0],
        delayedDue: due.length > 0,
      };
    });
  }

  /**
   * The order in which a claim without one kind tries queues: by the best task at each head,
   * un-prioritized BullMQ entries first (BullMQ serves them first within their queue), then by
   * BullMQ priority, then queues with a due delayed task; queues with nothing claimable drop out.
   * Heads of one priority go earliest `runAt` first, as the SQL queue's `run_at` order does: a
   * document's chunks and merge, which take its inspection's place, before the inspections of
   * the documents added after it and the chunks of those inspected after it (otherwise no
   * document finished until every chunk of the job had run). BullMQ's `timestamp` (when a task
   * was added) is not that order: a document's chunks are added after the documents queued
   * behind it.
   */
  async claimOrder(kinds: readonly string[]): Promise<string[]> {
    if (kinds.length <= 1) return [...kinds];
    const heads = await this.queueHeads(kinds.map(queueNameOf));
    const rankOf = (i: number): number => {
      const head = heads[i];
      if (!head) return Infinity;
      if (head.waiting) return 0;
      if (head.bestPriority !== undefined) return head.bestPriority;
      return head.delayedDue ? Number.MAX_SAFE_INTEGER : Infinity;
    };
    const ranked = [...kinds.keys()].filter((i) => rankOf(i) !== Infinity).sort((a, b) => rankOf(a) - rankOf(b));
    const tied = ranked.filter((i) => rankOf(i) === rankOf(ranked[0] ?? -1) && heads[i]?.waiting === false && heads[i]?.bestId !== undefined);
    if (tied.length > 1) {
      const due = await this.#runAts(tied.map((i) => [heads[i]?.queueName ?? '', heads[i]?.bestId ?? '']));
      const dueOf = new Map(tied.map((i, n) => [i, due[n] ?? Infinity]));
      const first = [...tied].sort((a, b) => (dueOf.get(a) ?? Infinity) - (dueOf.get(b) ?? Infinity));
      ranked.splice(0, tied.length, ...first);
    }
    return ranked.map((i) => kinds[i] as string);
  }

  /**
   * The `runAt` of each (queue, job id), kept in the job's data; BullMQ's creation time
   * (`timestamp`) for a task added before it was kept; Infinity for one gone meanwhile.
   */
  async #runAts(jobs: ReadonlyArray<readonly [string, string]>): Promise<number[]> {
    const pipeline = this.#redis.pipeline();
    for (const [queueName, id] of jobs) pipeline.hmget(this.#keys.bullmq(queueName, id), 'data', 'timestamp');
    const fields = (await execAll(pipeline)) as Array<[string | null, string | null]>;
    return fields.map(([data, stamp]) => runAtIn(data) ?? (stamp !== null && Number.isFinite(Number(stamp)) ? Number(stamp) : Infinity));
  }
}

/** A task's `runAt` from its BullMQ job's data (JSON text), if it has a finite one. */
function runAtIn(data: string | null): number | undefined {
  if (data === null) return undefined;
  try {
    const runAt = (JSON.parse(data) as Partial<TaskData> | null)?.runAt;
    return typeof runAt === 'number' && Number.isFinite(runAt) ? runAt : undefined;
  } catch {
    return undefined; // not a task of ours: its creation time then
  }
}

import type { Redis } from 'ioredis';
import type { BullmqKeys } from './bullmq-keys.ts';
import type { TaskStatus } from './port.ts';

const STATUSES: readonly TaskStatus[] = ['waiting', 'queued', 'leased', 'completed', 'failed', 'cancelled'];

/**
 * Lua shared by the scripts below. A job's records hash maps task id → `<status>:<queue name>`
 * (queue names are URI-encoded, so the first `:` ends the status), and its counts hash maps
 * status → tasks. `setStatus` is the one place both change: a task moves from its recorded status
 * to the new one, and the two counters move with it in the same script, so counts can never
 * drift from the records. Setting the status a task has already is a no-op, which makes every
 * move safe to repeat. Answers the status the task had, '' when it had no record.
 */
const SET_STATUS = `
local function statusOf(record)
  if not record then return '' end
  return string.match(record, '^[^:]*')
end
local function setStatus(records, counts, id, to, queue, ttl)
  local from = statusOf(redis.call('HGET', records, id))
  if from ~= to then
    if from ~= '' then redis.call('HINCRBY', counts, from, -1) end
    redis.call('HINCRBY', counts, to, 1)
    redis.call('HSET', records, id, to .. ':' .. queue)
    redis.call('PEXPIRE', records, ttl)
    redis.call('PEXPIRE', counts, ttl)
  end
  return from
end
`;

/** KEYS: records, counts. ARGV: ttl, then (task id, status, queue name)… Answers 1 per task recorded now. */
const RECORD = `
local added = {}
for i = 2, #ARGV, 3 do
  local n = redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1] .. ':' .. ARGV[i + 2])
  if n == 1 then redis.call('HINCRBY', KEYS[2], ARGV[i + 1], 1) end
  added[#added + 1] = n
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return added`;

/**
 * KEYS: records, counts, BullMQ lock. ARGV: task id, status, queue name, token ('' = no check),
 * hold ms, ttl. With a token, moves only while the lock is that token's (nil otherwise), and
 * keeps the lock at least `hold` ms so the BullMQ move sent right behind finds it.
 */
const MOVE = `${SET_STATUS}
if ARGV[4] ~= '' then
  if redis.call('GET', KEYS[3]) ~= ARGV[4] then return false end
  local hold = tonumber(ARGV[5])
  if hold > 0 and redis.call('PTTL', KEYS[3]) < hold then redis.call('PEXPIRE', KEYS[3], hold) end
end
return setStatus(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[6])`;

/** KEYS: records, counts. ARGV: task id, expected status, status to restore ('' = none), queue name, ttl. */
const REVERT = `${SET_STATUS}
if statusOf(redis.call('HGET', KEYS[1], ARGV[1])) ~= ARGV[2] then return 0 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
else
  setStatus(KEYS[1], KEYS[2], ARGV[1], ARGV[3], ARGV[4], ARGV[5])
end
return 1`;

/**
 * KEYS: the parent's records, counts. ARGV: parent task id, its BullMQ job id, BullMQ prefix,
 * ttl, work channel. A recorded `waiting` parent that BullMQ no longer keeps in its queue's
 * `waiting-children` set was released by its last child: it is `queued` now (answers 2, else 1).
 * Then wakes workers.
 */
const PARENT = `${SET_STATUS}
local record = redis.call('HGET', KEYS[1], ARGV[1])
if record then
  local status, queue = string.match(record, '^([^:]*):(.*)$')
  if status == 'waiting' and not redis.call('ZSCORE', ARGV[3] .. ':' .. queue .. ':waiting-children', ARGV[2]) then
    setStatus(KEYS[1], KEYS[2], ARGV[1], 'queued', queue, ARGV[4])
    redis.call('PUBLISH', ARGV[5], '[]')
    return 2
  end
end
redis.call('PUBLISH', ARGV[5], '[]')
return 1`;

/**
 * KEYS: records, counts, overall cancelled set. ARGV: ttl, now, ream job id, cancel channel
 * ('' = none), then the ids of tasks BullMQ just removed. Those still recorded queued or waiting
 * become cancelled (one a worker finished meanwhile keeps its status); answers how many.
 */
const CANCELLED = `${SET_STATUS}
local n = 0
for i = 5, #ARGV do
  local record = redis.call('HGET', KEYS[1], ARGV[i])
  if record then
    local status, queue = string.match(record, '^([^:]*):(.*)$')
    if status == 'queued' or status == 'waiting' then
      setStatus(KEYS[1], KEYS[2], ARGV[i], 'cancelled', queue, ARGV[1])
      redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3] .. '/' .. ARGV[i])
      n = n + 1
    end
  end
end
if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[3]) end
return n`;

/** The scripts as ioredis commands (defineCommand: EVALSHA, falling back to EVAL once). */
interface Scripts {
  reamRecord(...args: (string | number)[]): Promise<number[]>;
  reamMove(...args: (string | number)[]): Promise<string | null>;
  reamRevert(...args: (string | number)[]): Promise<number>;
  reamParent(...args: (string | number)[]): Promise<number>;
  reamCancelled(...args: (string | number)[]): Promise<number>;
}

/** In a pipeline, a defined command queues itself and answers the pipeline. */
type Pipeline = ReturnType<Redis['pipeline']> & { reamRecord(...args: (string | number)[]): Pipeline };

/** A task as the records know it: enough to find its keys. */
export interface TaskRef {
  id: string;
  jobId: string;
  queueName: string;
}

/** The lease a move checks: the BullMQ job's lock must still be `token`'s. */
export interface LockCheck {
  bullmqJobId: string;
  token: string;
  /** Keep the lock at least this long (ms) for the BullMQ move that follows; 0 leaves it as is. */
  holdMs: number;
}

/**
 * What ream keeps in Redis beside BullMQ's own keys (`<prefix>:ream:…`, see bullmq-keys.ts):
 * the kinds ever enqueued, per ream job a record of every task ever enqueued with its status
 * (dedupe that outlives BullMQ's retention, and what `cancelJob` looks at) and a counter per
 * status (`counts(jobId)` in one read), a cancelled marker, the overall cancelled set, and the
 * work and cancel channels.
 *
 * BullMQ moves a task with its own scripts, which cannot be extended; the adapter sends the
 * matching `move` right before each BullMQ move on the same connection, lock-checked, and
 * `revert`s it if BullMQ then refuses (see BullmqQueue). The records and counters change
 * together in one script, and every move is idempotent, so a repeated or late move cannot make a
 * task count twice.
 */
export class TaskRecords {
  readonly #redis: Redis & Scripts;
  readonly #keys: BullmqKeys;
  readonly #ttlMs: number;

  /** Every key a job's records use expires `ttlMs` after its last write. */
  constructor(redis: Redis, keys: BullmqKeys, ttlMs: number) {
    const scripts = { reamRecord: [2, RECORD], reamMove: [3, MOVE], reamRevert: [2, REVERT], reamParent: [2, PARENT], reamCancelled: [3, CANCELLED] } as const;
    for (const [name, [numberOfKeys, lua]] of Object.entries(scripts)) {
      // Defined once per connection: several queues may share one.
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys, lua });
    }
    this.#redis = redis as Redis & Scripts;
    this.#keys = keys;
    this.#ttlMs = ttlMs;
  }

  async registerKinds(kinds: readonly string[]): Promise<void> {
    if (kinds.length > 0) await this.#redis.sadd(this.#keys.kinds, ...kinds);
  }

  listKinds(): Promise<string[]> {
    return this.#redis.smembers(this.#keys.kinds);
  }

  /** Whether each task id was ever recorded for its job (dedupe that outlives BullMQ retention). */
  async knownTasks(tasks: readonly { id: string; jobId: string }[]): Promise<boolean[]> {
    const byJob = [...Map.groupBy(tasks, (task) => task.jobId)];
    // One HMGET per job rather than one HEXISTS per task: a batch usually belongs to one job.
    const pipeline = this.#redis.pipeline();
    for (const [jobId, group] of byJob) pipeline.hmget(this.#keys.jobRecords(jobId), ...group.map((task) => task.id));
    const results = await execAll(pipeline);
    const known = new Set<{ id: string; jobId: string }>();
    byJob.forEach(([, group], i) => group.forEach((task, j) => (results[i] as (string | null)[])[j] !== null && known.add(task)));
    return tasks.map((task) => known.has(task));
  }

  /**
   * Records tasks with their first status, counted; `true` for each recorded now. A task already
   * recorded (by a concurrent enqueue, or by a worker's move that came first) is left as it is.
   */
  async record(tasks: readonly (TaskRef & { status: 'queued' | 'waiting' })[]): Promise<boolean[]> {
    const byJob = [...Map.groupBy(tasks, (task) => task.jobId)];
    const pipeline = this.#redis.pipeline() as Pipeline;
    for (const [jobId, group] of byJob) {
      pipeline.reamRecord(this.#keys.jobRecords(jobId), this.#keys.jobCounts(jobId), this.#ttlMs, ...group.flatMap((t) => [t.id, t.status, t.queueName]));
    }
    const results = await execAll(pipeline);
    const added = new Map<TaskRef, boolean>();
    byJob.forEach(([, group], i) => group.forEach((task, j) => added.set(task, (results[i] as number[])[j] === 1)));
    return tasks.map((task) => added.get(task) ?? false);
  }

  /**
   * Moves a task to `to`. With `lock`, only while its BullMQ lock is still the token's: answers
   * `undefined` when it is not, else the status the task had ('' when it had no record).
   */
  async move(task: TaskRef, to: TaskStatus, lock?: LockCheck): Promise<TaskStatus | '' | undefined> {
    const lockKey = lock ? this.#keys.lock(task.queueName, lock.bullmqJobId) : this.#keys.jobRecords(task.jobId);
    const from = await this.#redis.reamMove(
      this.#keys.jobRecords(task.jobId),
      this.#keys.jobCounts(task.jobId),
      lockKey,
      task.id,
      to,
      task.queueName,
      lock?.token ?? '',
      lock?.holdMs ?? 0,
      this.#ttlMs,
    );
    return from === null ? undefined : (from as TaskStatus | '');
  }

  /** Undoes a `move` to `to` that BullMQ then refused, unless the task has moved on since. */
  async revert(task: TaskRef, to: TaskStatus, from: TaskStatus | ''): Promise<void> {
    await this.#redis.reamRevert(this.#keys.jobRecords(task.jobId), this.#keys.jobCounts(task.jobId), task.id, to, from, task.queueName, this.#ttlMs);
  }

  /** A flow child ended: records its parent as queued if BullMQ released it, and wakes workers. */
  /** True when this child's end released its parent (it is `queued` now). */
  async childEnded(parent: { id: string; jobId: string; bullmqJobId: string }): Promise<boolean> {
    const answer = await this.#redis.reamParent(
      this.#keys.jobRecords(parent.jobId),
      this.#keys.jobCounts(parent.jobId),
      parent.id,
      parent.bullmqJobId,
      this.#keys.prefix,
      this.#ttlMs,
      this.#keys.workChannel,
    );
    return answer === 2;
  }

  /** The job's tasks recorded queued or waiting, parents (waiting) first: what a cancel removes. */
  async cancellable(jobId: string): Promise<{ id: string; kind: string; status: 'queued' | 'waiting' }[]> {
    const tasks: { id: string; kind: string; status: 'queued' | 'waiting' }[] = [];
    for (const [id, record] of Object.entries(await this.#redis.hgetall(this.#keys.jobRecords(jobId)))) {
      const colon = record.indexOf(':');
      const status = record.slice(0, colon);
      if (status === 'queued' || status === 'waiting') tasks.push({ id, kind: decodeURIComponent(record.slice(colon + 1)), status });
    }
    // Parents first: removing a flow's last child first would release its parent to workers.
    return tasks.sort((a, b) => Number(b.status === 'waiting') - Number(a.status === 'waiting'));
  }

  /**
   * Records as cancelled the tasks BullMQ just removed (those still queued or waiting) and
   * answers how many; with `announce`, tells every process on the cancel channel in the same step.
   */
  async cancelled(jobId: string, removedIds: readonly string[], announce: boolean): Promise<number> {
    const keys = [this.#keys.jobRecords(jobId), this.#keys.jobCounts(jobId), this.#keys.cancelledTasks];
    return this.#redis.reamCancelled(...keys, this.#ttlMs, Date.now(), jobId, announce ? this.#keys.cancelChannel : '', ...removedIds);
  }

  /** Counts in the overall cancelled total a task recorded `cancelled` by its own move (a running task stopped by a cancel). */
  async countCancelled(jobId: string, taskId: string): Promise<void> {
    await this.#redis.zadd(this.#keys.cancelledTasks, Date.now(), `${jobId}/${taskId}`);
  }

  /** The job's tasks by status, from its counters: one read, however many tasks it had. */
  async jobCounts(jobId: string): Promise<Record<TaskStatus, number>> {
    const stored = await this.#redis.hgetall(this.#keys.jobCounts(jobId));
    return Object.fromEntries(STATUSES.map((status) => [status, Number(stored[status] ?? 0)])) as Record<TaskStatus, number>;
  }

  async markJobCancelled(jobId: string): Promise<void> {
    await this.#redis.set(this.#keys.jobCancelled(jobId), '1', 'PX', this.#ttlMs);
  }

  async isJobCancelled(jobId: string): Promise<boolean> {
    return (await this.#redis.exists(this.#keys.jobCancelled(jobId))) === 1;
  }

  /** Cancelled tasks over all jobs, forgetting those cancelled more than `retentionMs` ago. */
  async cancelledTotal(retentionMs: number): Promise<number> {
    const pipeline = this.#redis.pipeline().zremrangebyscore(this.#keys.cancelledTasks, '-inf', `(${Date.now() - retentionMs}`).zcard(this.#keys.cancelledTasks);
    return Number((await execAll(pipeline))[1] ?? 0);
  }

  /** Wakes idle workers in every process; `kinds` tells them which queues to look at. */
  async announceWork(kinds: readonly string[]): Promise<void> {
    await this.#redis.publish(this.#keys.workChannel, JSON.stringify(kinds));
  }
}

/** Runs a pipeline and fails on the first command error instead of returning it as a value. */
export async function execAll(pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

import { FlowProducer, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueNameOf } from './bullmq-keys.ts';
import type { TaskData } from './bullmq-task.ts';
import type { TaskStatus } from './port.ts';

export type TaskQueueHandle = Queue<TaskData, unknown, string>;
export type TaskWorker = Worker<TaskData, unknown, string>;

/** BullMQ states → port statuses ("delayed" is still `queued` in the port: it has a future runAt). */
const STATUS_OF_STATE = {
  wait: 'queued',
  prioritized: 'queued',
  delayed: 'queued',
  'waiting-children': 'waiting',
  active: 'leased',
  completed: 'completed',
  failed: 'failed',
} as const satisfies Record<string, TaskStatus>;
const STATES = Object.keys(STATUS_OF_STATE) as (keyof typeof STATUS_OF_STATE)[];

/**
 * The BullMQ objects the adapter speaks through, made on first use and all on one connection (so
 * commands sent in a row reach Redis in that order, which the records' moves rely on): one Queue
 * per task kind, one manual Worker per (kind, lease length), one FlowProducer.
 */
export class BullmqHandles {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #queues = new Map<string, TaskQueueHandle>();
  readonly #workers = new Map<string, TaskWorker>();
  #flows: FlowProducer | undefined;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  queue(kind: string): TaskQueueHandle {
    let queue = this.#queues.get(kind);
    if (!queue) {
      queue = new Queue<TaskData, unknown, string>(queueNameOf(kind), { connection: this.#redis, prefix: this.#prefix, skipVersionCheck: true });
      this.#queues.set(kind, queue);
    }
    return queue;
  }

  /** BullMQ's lock duration is a Worker option, hence one Worker per lease length. */
  worker(kind: string, leaseMs: number): TaskWorker {
    const key = `${kind}\n${leaseMs}`;
    let worker = this.#workers.get(key);
    if (!worker) {
      worker = new Worker<TaskData, unknown, string>(queueNameOf(kind), null, {
        connection: this.#redis,
        prefix: this.#prefix,
        lockDuration: leaseMs,
        autorun: false,
        skipVersionCheck: true,
      });
      this.#workers.set(key, worker);
    }
    return worker;
  }

  flows(): FlowProducer {
    this.#flows ??= new FlowProducer({ connection: this.#redis, prefix: this.#prefix, skipVersionCheck: true });
    return this.#flows;
  }

  /**
   * Tasks by status over every queue of `kinds`, as BullMQ counts them (finished ones until its
   * retention removes them); `cancelled` is not BullMQ's to know and stays 0.
   */
  async countAll(kinds: Iterable<string>): Promise<Record<TaskStatus, number>> {
    const counts: Record<TaskStatus, number> = { waiting: 0, queued: 0, leased: 0, completed: 0, failed: 0, cancelled: 0 };
    const perQueue = await Promise.all([...kinds].map((kind) => this.queue(kind).getJobCounts(...STATES)));
    for (const byState of perQueue) for (const state of STATES) counts[STATUS_OF_STATE[state]] += byState[state] ?? 0;
    return counts;
  }

  /** Workers first: they may still be moving jobs through the queues. */
  async close(): Promise<void> {
    await Promise.all([...this.#workers.values()].map((worker) => worker.close()));
    await Promise.all([...this.#queues.values()].map((queue) => queue.close()));
    await this.#flows?.close();
  }
}

import type { Job, JobsOptions } from 'bullmq';
import type { JsonValue } from '../json.ts';
import { bullmqJobIdOf, queueNameOf } from './bullmq-keys.ts';
import { toBullmqPriority } from './bullmq-priority.ts';
import type { TaskRef } from './bullmq-records.ts';
import type { LeasedTask, NewTask } from './port.ts';
import { rowFromTask } from './task-rows.ts';

/** What a BullMQ job carries for a ream task; BullMQ's own fields hold the rest. */
export interface TaskData {
  taskId: string;
  jobId: string;
  payload: JsonValue;
  /** The exact port priority (BullMQ's may be clamped, see bullmq-priority.ts). */
  priority: number;
  maxAttempts: number;
  /** When the task is first due (epoch ms): the backlog's age counts from it. Absent on tasks added before it was kept. */
  runAt?: number;
  parentId?: string;
  /** The parent's ream job when it is not this task's (the port allows it; the engine's flows never do). */
  parentJobId?: string;
}

export type TaskJob = Job<TaskData, unknown, string>;

/** How long finished tasks stay in Redis, in BullMQ's terms. */
export interface KeepFinished {
  removeOnComplete: { age: number; count: number };
  removeOnFail: { age: number; count: number };
}

/** A validated task, ready for `Queue.addBulk` or a flow node. */
export interface PreparedTask {
  kind: string;
  queueName: string;
  data: TaskData;
  opts: JobsOptions;
  runAt: number;
}

/** Validates (as every adapter does, see task-rows.ts) and maps a new task to a BullMQ job. */
export function prepareTask(task: NewTask, now: number, keep: KeepFinished, parent?: { id: string; jobId: string }): PreparedTask {
  const row = rowFromTask(task, now, 'queued', parent?.id ?? null);
  const priority = Number(row.priority);
  const runAt = Number(row.run_at);
  const data: TaskData = { taskId: task.id, jobId: task.jobId, payload: task.payload, priority, maxAttempts: Number(row.max_attempts), runAt };
  if (parent !== undefined) data.parentId = parent.id;
  if (parent !== undefined && parent.jobId !== task.jobId) data.parentJobId = parent.jobId;
  return {
    kind: task.kind,
    queueName: queueNameOf(task.kind),
    data,
    runAt,
    opts: {
      jobId: bullmqJobIdOf(task.id),
      priority: toBullmqPriority(priority),
      delay: Math.max(0, runAt - now),
      // Retries are decided by `fail` (the engine computes the backoff), never by BullMQ.
      attempts: 1,
      ...keep,
    },
  };
}

/** Drops repeated ids, the first one kept. */
export function uniqueById(tasks: PreparedTask[]): PreparedTask[] {
  const seen = new Set<string>();
  return tasks.filter((p) => !seen.has(p.data.taskId) && seen.add(p.data.taskId));
}

/** A prepared task as TaskRecords records it. */
export function recordOf<S extends 'queued' | 'waiting'>(task: PreparedTask, status: S): TaskRef & { status: S } {
  return { id: task.data.taskId, jobId: task.data.jobId, queueName: task.queueName, status };
}

/** A task as TaskRecords finds it. */
export function refOf(job: TaskJob): TaskRef {
  return { id: job.data.taskId, jobId: job.data.jobId, queueName: queueNameOf(job.name) };
}

/** The flow parent of a child task, as TaskRecords finds it; `undefined` for a task without one. */
export function parentOf(job: TaskJob): { id: string; jobId: string; bullmqJobId: string } | undefined {
  const { parentId, parentJobId, jobId } = job.data;
  return parentId === undefined ? undefined : { id: parentId, jobId: parentJobId ?? jobId, bullmqJobId: bullmqJobIdOf(parentId) };
}

/** The port's view of a job just moved to active under `token`. */
export function leasedFromJob(job: TaskJob, token: string, leaseUntil: number): LeasedTask {
  const data = job.data;
  return {
    id: data.taskId,
    jobId: data.jobId,
    kind: job.name,
    payload: data.payload,
    priority: data.priority,
    attempts: attemptsOf(job),
    maxAttempts: data.maxAttempts,
    parentId: data.parentId,
    runAt: data.runAt ?? job.timestamp,
    leaseToken: token,
    leaseUntil,
  };
}

/**
 * Claims so far, expired ones included. BullMQ counts every start; a task given back unfinished
 * (released, or fetched ahead and never claimed) takes its start back (`uncountStart`).
 */
export function attemptsOf(job: TaskJob): number {
  return job.attemptsStarted;
}

/** BullMQ's answer when a lock-checked move finds the lock gone, someone else's, or the job moved. */
export function isLostLease(error: unknown): boolean {
  // -1 job missing, -2 lock missing, -3 not in the expected state, -6 lock held by another token.
  const code = (error as { code?: unknown } | null)?.code;
  return code === -1 || code === -2 || code === -3 || code === -6;
}

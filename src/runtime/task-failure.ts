import { retryDelay } from '../batch/backoff.ts';
import { ReamError, toReamError } from '../errors.ts';
import type { LeasedTask, TaskQueue } from '../queue/port.ts';
import type { Store } from '../store/port.ts';
import type { DocumentTasks } from './document-tasks.ts';
import { TASK_KINDS } from './task-kinds.ts';
import type { RetryPolicy } from './worker.ts';
import type { TaskOutcome } from './worker-monitor.ts';

/** The longest wait a service's Retry-After gets a task, in ms. */
const MAX_RETRY_AFTER_MS = 3_600_000;

/** What deciding a failed task's fate needs. */

export interface FailureContext {
  queue: TaskQueue;
  store: Pick<Store, 'getJob'>;
  tasks: Pick<DocumentTasks, 'failed'>;
  leaseMs: number;
  retryPolicy(kind: string): RetryPolicy;
}

/** The first wait's ceiling before a task that failed with `unavailable` runs again (half of it at least); doubled per attempt. */
const UNAVAILABLE_RETRY_BASE_MS = 5_000;

/**
 * A task's run threw `error`: retry it through the queue (durable, with backoff) while it is
 * retryable and has attempts left; else record the failure where users see it and fail it for
 * good — but only while the task is still this worker's (one that took it over owns its outcome).
 */
export async function settleFailure(context: FailureContext, task: LeasedTask, error: ReamError): Promise<TaskOutcome> {
  const { queue, store } = context;
  try {
    // A webhook delivery is not the job's work: a cancelled job's `job.cancelled` is still announced.
    if (task.kind !== TASK_KINDS.webhook) {
      const job = await store.getJob(task.jobId);
      if (!job || job.status === 'cancelled') {
        // Nothing to record: the job is gone or cancelled, and so is the task, whatever stopped it.
        await queue.fail(task, error.code === 'cancelled' ? error.toJSON() : { code: 'cancelled', message: `its job was ${job ? 'cancelled' : 'deleted'}` });
        return 'dropped';
      }
    }
    const cancelled = error.code === 'cancelled';
    if (!cancelled && error.retryable && task.attempts < task.maxAttempts) {
      const policy = context.retryPolicy(task.kind);
      // A service that does not answer (S3 restarting) is given seconds, not the half second a
      // flaky read gets: the attempts would all be spent before it is back.
      const down = error.code === 'unavailable';
      const baseDelayMs = down ? Math.max(policy.baseMs, UNAVAILABLE_RETRY_BASE_MS) : policy.baseMs;
      const maxDelayMs = Math.max(policy.maxMs, baseDelayMs);
      // A service that said how long to wait (Retry-After) is waited for that long, past the
      // usual ceiling, up to an hour: retried sooner, the call would only be refused again.
      const askedMs = error.retryAfterMs === undefined ? 0 : Math.min(Math.ceil(error.retryAfterMs), MAX_RETRY_AFTER_MS);
      let delay = Math.max(retryDelay(task.attempts, error, { baseDelayMs, maxDelayMs, factor: 2 }), askedMs);
      // At least half of the attempt's ceiling (2.5 s, then 5 s): full jitter alone may wait ~0 each time.
      if (down) delay = Math.max(delay, Math.floor(Math.min(maxDelayMs, baseDelayMs * 2 ** (task.attempts - 1)) / 2));
      await queue.fail(task, error.toJSON(), delay);
      return 'retried';
    }
    const final = error.retryable && !cancelled
      ? new ReamError(error.code, `${error.message} (after ${task.attempts} attempts)`, { retryable: false, details: error.details ?? {} })
      : error;
    if (!(await queue.extendLease(task, context.leaseMs))) return 'lease_lost';
    await context.tasks.failed(task, final);
    await queue.fail(task, final.toJSON());
    return 'failed';
  } catch (secondary) {
    // Recording the failure failed (store down?): leave the lease; the task will run again.
    process.emitWarning(`ream worker: could not record failure of ${task.id}: ${toReamError(secondary).message}`);
    return 'unrecorded';
  }
}

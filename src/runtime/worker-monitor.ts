import { availableParallelism, loadavg } from 'node:os';
import type { ChunkRef } from '../events/types.ts';
import { asJson, type JsonValue } from '../json.ts';
import type { LeasedTask } from '../queue/port.ts';
import type { IntakeLimits } from './intake.ts';

/** How a task's run on this worker ended. */
export type TaskOutcome = 'completed' | 'retried' | 'failed' | 'dropped' | 'released' | 'lease_lost' | 'unrecorded';

/** A task running now, as `GET /v1/workers` shows it. */
export interface RunningTask {
  taskId: string;
  kind: string;
  jobId: string;
  documentId?: string;
  chunk?: ChunkRef;
  attempt: number;
  /** Epoch ms. */
  startedAt: number;
}

/** A task this worker ran lately. */
export interface RecentTask extends RunningTask {
  outcome: TaskOutcome;
  durationMs: number;
  errorCode?: string;
}

/** What a worker reports with each beat beyond its counts (stored as `WorkerRecord.detail`). */
export interface WorkerDetail {
  /** CPU time of the process since the last beat, in % of one core (200 = two cores busy). */
  cpuPercent: number;
  rssMb: number;
  heapUsedMb: number;
  /** The host's 1-minute load average per core. */
  loadPerCore: number;
  /** Why the worker takes no work, while paused. */
  pausedReason?: string;
  /** When it stops claiming on its own (`--max-rss`, `--max-lag`, `--max-cpu`), if any limit is set. */
  intakeLimits?: IntakeLimits;
  running: RunningTask[];
  /** The last {@link RECENT_TASKS} tasks that ended, newest first. */
  recent: RecentTask[];
}

/** Tasks kept in a worker's history: enough to see what it did lately, small enough for every beat. */
export const RECENT_TASKS = 20;

/** What a task names of its document, when its payload has one (document and chunk tasks). */
function describe(task: LeasedTask): RunningTask {
  const payload = typeof task.payload === 'object' && task.payload !== null && !Array.isArray(task.payload) ? task.payload : {};
  const { documentId, chunk } = payload as { documentId?: unknown; chunk?: unknown };
  const isChunk = typeof chunk === 'object' && chunk !== null && typeof (chunk as ChunkRef).index === 'number';
  return {
    taskId: task.id, kind: task.kind, jobId: task.jobId, attempt: task.attempts, startedAt: Date.now(),
    ...(typeof documentId === 'string' ? { documentId } : {}),
    ...(isChunk ? { chunk: chunk as ChunkRef } : {}),
  };
}

/**
 * Keeps what a worker reports about itself: the tasks it runs (with their job, document and
 * chunk), the last ones it finished, and the process's CPU and memory between two beats.
 */
export class WorkerMonitor {
  readonly #running = new Map<string, RunningTask>();
  readonly #recent: RecentTask[] = [];
  #cpu = process.cpuUsage();
  #at = performance.now();

  started(task: LeasedTask): void {
    this.#running.set(task.id, describe(task));
  }

  ended(task: LeasedTask, outcome: TaskOutcome, errorCode?: string): void {
    const running = this.#running.get(task.id) ?? describe(task);
    this.#running.delete(task.id);
    this.#recent.unshift({ ...running, outcome, durationMs: Date.now() - running.startedAt, ...(errorCode === undefined ? {} : { errorCode }) });
    this.#recent.length = Math.min(this.#recent.length, RECENT_TASKS);
  }

  /** The detail of one beat; CPU is measured since the previous call. */
  detail(pausedReason?: string, intakeLimits?: IntakeLimits): JsonValue {
    const cpu = process.cpuUsage(this.#cpu);
    const now = performance.now();
    const cpuPercent = ((cpu.user + cpu.system) / 1000 / Math.max(1, now - this.#at)) * 100;
    this.#cpu = process.cpuUsage();
    this.#at = now;
    const memory = process.memoryUsage();
    const detail: WorkerDetail = {
      cpuPercent: Math.round(cpuPercent * 10) / 10,
      rssMb: Math.round(memory.rss / 2 ** 20),
      heapUsedMb: Math.round(memory.heapUsed / 2 ** 20),
      loadPerCore: Math.round(((loadavg()[0] ?? 0) / availableParallelism()) * 100) / 100,
      ...(pausedReason === undefined ? {} : { pausedReason }),
      ...(intakeLimits === undefined || Object.keys(intakeLimits).length === 0 ? {} : { intakeLimits }),
      running: [...this.#running.values()],
      recent: [...this.#recent],
    };
    return asJson(detail);
  }
}

import type { JsonValue } from '../json.ts';

export type WorkerState = 'running' | 'draining' | 'paused';
/** What an admin asked a worker to do (`POST /v1/workers/:id/{pause,resume,drain}`); it reads it at its next beat. */
export type WorkerCommand = 'pause' | 'resume' | 'drain';
export const WORKER_COMMANDS: readonly WorkerCommand[] = ['pause', 'resume', 'drain'];

/** A worker process's heartbeat, for `GET /v1/workers`: written by the worker, replaced each beat. */
export interface WorkerRecord {
  id: string;
  host: string;
  pid: number;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms of the last heartbeat. */
  lastSeenAt: number;
  /** Tasks it runs at once at most. */
  concurrency: number;
  /** Tasks it runs now. */
  inFlight: number;
  tasksDone: number;
  tasksFailed: number;
  /** `draining`: finishing what it holds, taking nothing new; `paused`: holding off intake (resources, or an admin). */
  state: WorkerState;
  /** What the worker reports beyond the counts (resources, tasks in flight, recent tasks): stored as given. */
  detail?: JsonValue;
  /** The last command an admin gave it, if any (kept across beats). */
  command?: WorkerCommand;
}

/** Worker heartbeats. Contract: test/conformance/store-workers.ts. */
export interface WorkerStore {
  /**
   * Inserts or replaces the worker's record (by id): the latest beat wins, but the command an
   * admin left is kept (a record's own `command` is ignored). Answers that command, so a worker
   * hears it at its next beat. An unknown state is `validation_failed`.
   */
  putWorker(worker: WorkerRecord): Promise<WorkerCommand | undefined>;
  /** Leaves `command` for the worker (replacing an earlier one); false when no such worker is recorded. */
  commandWorker(id: string, command: WorkerCommand): Promise<boolean>;
  /** Workers heard from at or after `seenSince` (epoch ms), oldest start first (ties by id). */
  listWorkers(seenSince: number): Promise<WorkerRecord[]>;
  /** Removes the worker's record (a clean shutdown); idempotent, an unknown id is not an error. */
  removeWorker(id: string): Promise<void>;
}

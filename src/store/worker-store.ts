export type WorkerState = 'running' | 'draining' | 'paused';

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
  /** `draining`: finishing what it holds, taking nothing new; `paused`: holding off intake (resources). */
  state: WorkerState;
}

/** Worker heartbeats. Contract: test/conformance/store-workers.ts. */
export interface WorkerStore {
  /** Inserts or replaces the worker's record (by id): the latest beat wins. An unknown state is `validation_failed`. */
  putWorker(worker: WorkerRecord): Promise<void>;
  /** Workers heard from at or after `seenSince` (epoch ms), oldest start first (ties by id). */
  listWorkers(seenSince: number): Promise<WorkerRecord[]>;
  /** Removes the worker's record (a clean shutdown); idempotent, an unknown id is not an error. */
  removeWorker(id: string): Promise<void>;
}

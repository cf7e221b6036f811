/**
 * What the deployment did in one interval, as a server counted it from the events of every
 * process (pages, tasks, failures by code) and read at its end (queue, model tokens): one slot
 * of the metrics history (`GET /v1/metrics/history`), which the console's charts draw.
 */
export interface MetricsSample {
  /** Epoch ms: the interval's start, a multiple of `intervalMs`. */
  at: number;
  /** The interval's length, in ms. */
  intervalMs: number;
  /** Pages (a table's rows) in chunks that completed. */
  pages: number;
  /** Chunk tasks that ended, failed ones included. */
  tasks: number;
  tasksFailed: number;
  documents: number;
  documentsFailed: number;
  /** Failed chunks and documents by error code (`timeout`, `invalid_pdf`, …). */
  failures: Record<string, number>;
  /** Tasks queued, ready for a worker, at the interval's end (merges waiting on their chunks are not counted). */
  queued: number;
  /** Tasks leased by a worker at the interval's end. */
  running: number;
  /** Age in ms at the interval's end of the longest-waiting claimable task (any priority, any job), from when it was first due; null when none. */
  oldestQueuedMs: number | null;
  /** Model tokens (prompt and completion) spent in the interval. */
  tokens: number;
}

/**
 * The metrics history: a ring buffer of samples, bounded in rows whatever runs. Contract:
 * test/conformance/store-metrics.ts.
 */
export interface MetricsStore {
  /**
   * Stores `sample` in its slot of a ring of `capacity` (the interval's number modulo
   * `capacity`), replacing an older sample there; answers false, storing nothing, when the slot
   * holds this interval already (another server of the deployment sampled it first) or a later
   * one. The table never holds more than `capacity` rows of one capacity.
   */
  putMetricsSample(sample: MetricsSample, capacity: number): Promise<boolean>;
  /** Samples whose interval starts at or after `since` (epoch ms), oldest first. */
  listMetricsSamples(since: number): Promise<MetricsSample[]>;
}

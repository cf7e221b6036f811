// What crosses the boundary between the pool (main thread) and its worker threads.
// Errors travel as `ErrorInfo` inside a normal reply rather than as thrown values: structured
// clone keeps an Error's message but drops own properties such as `code`, and a ReamError
// without its code would turn every bad file into `internal`.
import type { ErrorInfo } from '../errors.ts';
import type { JsonValue } from '../json.ts';

export interface TaskRequest {
  task: string;
  input: JsonValue;
  /** The task's slot in the thread table, where the thread that takes it writes its id (see thread-memory.ts). */
  slot?: number;
}

/**
 * `retire`: the thread holds more memory that never shrinks (WebAssembly) than the pool's cap;
 * the pool ends it once the reply is in, and a fresh thread takes its place.
 */
export type TaskReply = ({ ok: true; value: JsonValue } | { ok: false; error: ErrorInfo }) & { retire?: true };

/** `workerData` of every pool thread. */
export interface PoolWorkerData {
  /** URLs (`file:`) of extra task modules, loaded after the built-in ones. */
  handlerModules: string[];
  /** The thread table's memory (an Int32Array of threadIds by slot), shared with the main thread. */
  threadTable?: SharedArrayBuffer;
  /** A thread whose task modules hold more than this many bytes that never shrink is retired after its task (see `TaskModule.heldBytes`). */
  retireAboveBytes?: number;
}

import { appendFile, appendFileSync, closeSync, ftruncateSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ReamError } from '../errors.ts';

/**
 * How long finished records may wait in memory before they are written, in ms. Writing each
 * record at once would cost a file write — and its completion callback on the event loop — per
 * item; gathering them makes it one write per interval whatever the item rate. The price: a
 * crash loses (and so redoes) at most this long's worth of finished items.
 */
export const CHECKPOINT_FLUSH_MS = 100;

/** One line of a checkpoint file. */
interface CheckpointRecord {
  key: string;
  value: unknown;
}

function parseRecord(line: string): CheckpointRecord | undefined {
  try {
    const record = JSON.parse(line) as unknown;
    if (typeof record === 'object' && record !== null && typeof (record as { key?: unknown }).key === 'string') {
      return record as CheckpointRecord;
    }
  } catch {
    // not JSON: the caller decides whether that is a torn tail or corruption
  }
  return undefined;
}

function ioError(message: string, cause: unknown): ReamError {
  return new ReamError('io_error', message, { cause });
}

/**
 * Reads what earlier runs finished and opens the file for appending, creating it (and its
 * folder) if missing. A last line without its newline was torn by a crash mid-write: it is
 * dropped (cut off the file, so appends start on a clean line) unless it happens to be a whole
 * record. Any other unreadable line is corruption and refuses the batch, rather than silently
 * redoing — or skipping — the wrong items.
 *
 * Synchronous on purpose: it runs once, before any item can start, and parsing the records
 * costs the event loop far more than reading them; for a new file it takes microseconds where
 * the promise API would take a few thread-pool round trips.
 */
export function openCheckpoint(path: string): { done: Map<string, unknown>; writer: CheckpointWriter } {
  let bytes: Buffer = Buffer.alloc(0);
  try {
    bytes = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`cannot read checkpoint ${path}: ${(error as Error).message}`, error);
  }
  // Split on the last newline in bytes: a torn tail may end inside a multi-byte character.
  const completeLength = bytes.lastIndexOf(0x0a) + 1;
  const tail = bytes.subarray(completeLength).toString('utf8');
  const done = new Map<string, unknown>();
  bytes.subarray(0, completeLength).toString('utf8').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const record = parseRecord(line);
    if (!record) throw ReamError.nonRetryable('validation_failed', `checkpoint ${path}, line ${i + 1}: not a {"key","value"} JSON record`);
    done.set(record.key, record.value);
  });
  const tailRecord = tail === '' ? undefined : parseRecord(tail);
  if (tailRecord) done.set(tailRecord.key, tailRecord.value);

  let fd: number | undefined;
  try {
    fd = openForAppend(path);
    if (tailRecord) appendFileSync(fd, '\n');
    else if (completeLength < bytes.length) ftruncateSync(fd, completeLength);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    throw ioError(`cannot open checkpoint ${path}: ${(error as Error).message}`, error);
  }
  return { done, writer: new CheckpointWriter(path, fd) };
}

function openForAppend(path: string): number {
  try {
    return openSync(path, 'a');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(dirname(path), { recursive: true });
    return openSync(path, 'a');
  }
}

/**
 * Appends records in groups: a record waits up to {@link CHECKPOINT_FLUSH_MS} for others, and
 * while one write is in flight new records gather for the next. No per-item await and no
 * per-item write, so a checkpoint costs the batch close to nothing.
 */
export class CheckpointWriter {
  readonly #path: string;
  readonly #fd: number;
  #pending: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing = false;
  #whenWritten: (() => void) | undefined;
  #error: ReamError | undefined;
  /** Called once, with the first write error. */
  onError: (error: ReamError) => void = () => {};

  constructor(path: string, fd: number) {
    this.#path = path;
    this.#fd = fd;
  }

  /** Queues a record. Throws `validation_failed` (and queues nothing) if `value` is not JSON. */
  append(key: string, value: unknown): void {
    let line: string;
    try {
      line = `${JSON.stringify({ key, value })}\n`;
    } catch (error) {
      throw ReamError.nonRetryable('validation_failed', `the value of "${key}" is not JSON-serialisable, so it cannot be checkpointed: ${(error as Error).message}`, { cause: error });
    }
    this.#pending.push(line);
    this.#schedule();
  }

  #schedule(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, CHECKPOINT_FLUSH_MS);
  }

  #flush(): void {
    if (this.#error || this.#pending.length === 0) return;
    if (this.#writing) {
      this.#schedule(); // one write at a time keeps records whole and in order; try again later
      return;
    }
    const chunk = this.#pending.join('');
    this.#pending = [];
    this.#writing = true;
    appendFile(this.#fd, chunk, (error) => {
      this.#writing = false;
      if (error) this.#failed(error);
      this.#whenWritten?.();
    });
  }

  #failed(error: unknown): void {
    if (this.#error) return;
    this.#error = ioError(`cannot write checkpoint ${this.#path}: ${(error as Error).message}`, error);
    this.onError(this.#error);
  }

  /**
   * Writes what is queued and closes the file; rejects with the first write error, if any.
   * The last write is synchronous: it is small (one flush interval's worth) and saves the batch
   * a thread-pool round trip before it can resolve.
   */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#writing) await new Promise<void>((resolve) => (this.#whenWritten = resolve));
    try {
      if (!this.#error && this.#pending.length > 0) appendFileSync(this.#fd, this.#pending.join(''));
    } catch (error) {
      this.#failed(error);
    } finally {
      this.#pending = [];
      closeSync(this.#fd);
    }
    if (this.#error) throw this.#error;
  }
}

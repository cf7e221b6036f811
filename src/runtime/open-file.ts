// A file given by path, opened before anything streams from it. `fs.createReadStream(path)`
// opens the file later and reports a missing one as an 'error' event: emitted while the stream
// waits for its reader (the store is still checking the job, say), with no listener yet, it ends
// the process. Opening first makes that a rejected promise with a code, at the call.
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { fileReadError, ReamError } from '../errors.ts';

/** A regular file's bytes as a stream; `not_found`, `validation_failed` (not a file) or `io_error` as a rejection. */
export async function openFileStream(path: string): Promise<Readable> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw fileReadError(path, error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw ReamError.nonRetryable('validation_failed', `${path} is not a file`);
  } catch (error) {
    await handle.close().catch(() => {});
    throw fileReadError(path, error);
  }
  return handle.createReadStream();
}

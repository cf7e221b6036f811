// A file given by path, opened before anything streams from it. `fs.createReadStream(path)`
// opens the file later and reports a missing one as an 'error' event: emitted while the stream
// waits for its reader (the store is still checking the job, say), with no listener yet, it ends
// the process. Opening first makes that a rejected promise with a code, at the call.
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { fileReadError } from '../errors.ts';
import { notRegularFile } from '../file-kind.ts';

// O_NONBLOCK where the platform has it (not on Windows, which has no FIFOs to open either).
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** A regular file's bytes as a stream; `not_found`, `validation_failed` (not a regular file) or `io_error` as a rejection. */
export async function openFileStream(path: string): Promise<Readable> {
  // Looked at before it is opened: opening a named pipe that no one writes to blocks until
  // someone does — forever, holding one of libuv's few threads, and `process.exit` (a second
  // Ctrl-C) then waits on that thread too. A device may block or never end likewise.
  try {
    const info = await stat(path);
    if (!info.isFile()) throw notRegularFile(path, info);
  } catch (error) {
    throw fileReadError(path, error);
  }
  let handle;
  try {
    // Non-blocking, for a path swapped for a pipe since the stat; it changes nothing for a
    // regular file, whose reads never block in that sense.
    handle = await open(path, OPEN_FLAGS);
  } catch (error) {
    throw fileReadError(path, error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw notRegularFile(path, info);
  } catch (error) {
    await handle.close().catch(() => {});
    throw fileReadError(path, error);
  }
  return handle.createReadStream();
}

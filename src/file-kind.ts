import { statSync, type Stats } from 'node:fs';
import { ReamError } from './errors.ts';

// ream reads regular files only: a named pipe blocks its reader until someone writes to it, a
// device (`/dev/zero`) never ends. Shared by the runtime (opening a file) and the CLI (collecting
// its inputs), which may not import each other.

/** What a path that is no regular file is, for a message: `a named pipe (FIFO)`, `a directory`, …. */
export function fileKind(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  return 'a regular file';
}

/** `validation_failed`: `path` is no regular file. */
export function notRegularFile(path: string, info: Stats): ReamError {
  return ReamError.nonRetryable('validation_failed', `${path} is not a regular file (it is ${fileKind(info)}): ream reads regular files only`);
}

/**
 * Whether `path` is a character device (`/dev/null`, a terminal): written to, never read back,
 * since reading one to its end may never end. False when nothing is there.
 */
export function isCharacterDevice(path: string): boolean {
  try {
    return statSync(path).isCharacterDevice();
  } catch {
    return false;
  }
}

import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ReamError } from '../errors.ts';
import { makeFolders } from '../make-folders.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * One process at a time owns an embedded data dir. That is what lets a fresh start treat every
 * lease left in the queue as belonging to a dead process and release it at once, instead of
 * waiting for leases to expire. A lock whose process is gone (kill -9, power loss) is stale and
 * is taken over.
 */
const lockedHere = new Set<string>();

/**
 * The data dir's folder, made if missing; `validation_failed` saying why when it cannot be (a file
 * there, no permission, a place that takes no folders such as `/proc`), `io_error` naming it for
 * anything else.
 */
export function makeDataDir(dataDir: string): void {
  try {
    makeFolders(dataDir);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      throw ReamError.nonRetryable('validation_failed', `the data dir ${dataDir} cannot be a folder: a file is in its place (${message}); use another data dir`, { cause: error });
    }
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT') {
      throw ReamError.nonRetryable('validation_failed', `the data dir ${dataDir} cannot be made (${message}); use a folder this user may write to`, { cause: error });
    }
    throw new ReamError('io_error', `the data dir ${dataDir} cannot be made (${message})`, { cause: error });
  }
}

export function lockDataDir(dataDir: string): () => void {
  makeDataDir(dataDir);
  const path = join(dataDir, 'lock');
  // Our own pid in the lock file is not stale: a second handle in this process must not take over.
  if (lockedHere.has(path)) {
    throw ReamError.nonRetryable('validation_failed', `the data dir ${dataDir} is already open in this process; close the other handle first`);
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      lockedHere.add(path);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        lockedHere.delete(path);
        rmSync(path, { force: true });
      };
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
        throw ReamError.nonRetryable('validation_failed', `the data dir ${dataDir} cannot be written (${message}); use a folder this user may write to`, { cause: error });
      }
      if (code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw ReamError.nonRetryable('validation_failed', `the data dir ${dataDir} is in use by process ${owner}; wait for it to end or use another --data-dir`);
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw ReamError.nonRetryable('internal', `could not lock the data dir ${dataDir}`);
}

/** SQLite's codes for a file that is not one of its databases, or a damaged one. */
const DAMAGED = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT']);

/**
 * `data_dir_damaged` for an error (or one it was caused by) that says the data dir's database
 * file is not a SQLite database or is damaged: not a fault of ream's to retry, but a file to
 * restore, said with its path. `validation_failed` for one that says the file cannot be written.
 */
export function damagedDatabase(error: unknown, path: string): ReamError | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const { code } = cause as NodeJS.ErrnoException;
    // A database file this process may not write (read-only, immutable, on a read-only mount).
    if (code?.startsWith('SQLITE_READONLY') === true) {
      return ReamError.nonRetryable('validation_failed', `the data dir's database ${path} cannot be written (${cause.message}): make it writable for this user, or use another data dir`, { cause: error });
    }
    if (code !== undefined && DAMAGED.has(code)) {
      return ReamError.nonRetryable('data_dir_damaged', `the data dir's database ${path} is damaged or is not a ream database (${cause.message}): restore it from a backup, or use another data dir`, { cause: error });
    }
  }
  return undefined;
}

import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { ReamError } from '../errors.ts';

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

export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
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
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw ReamError.nonRetryable('validation_failed', `the data dir ${dataDir} is in use by process ${owner}; wait for it to end or use another --data-dir`);
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw ReamError.nonRetryable('internal', `could not lock the data dir ${dataDir}`);
}

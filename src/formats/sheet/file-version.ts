// Which version of a file a read is of: what a thread keeps of a file it read (csv-index.ts,
// xlsx-index.ts) is kept under this key, so another version of the file starts afresh.
import { AsyncLocalStorage } from 'node:async_hooks';
import { stat } from 'node:fs/promises';

/** The file whose content a task was told (its sha256, as stored), for the task's reads of it. */
const declared = new AsyncLocalStorage<{ path: string; sha256: string }>();

/** Runs `task` with `path` known to hold the content of `sha256` (when given): its reads key what they keep by it. */
export function withFileSha256<T>(path: string, sha256: string | undefined, task: () => Promise<T>): Promise<T> {
  return sha256 === undefined ? task() : declared.run({ path, sha256 }, task);
}

/**
 * A file version's key: its content's sha256 when the task was given it ({@link withFileSha256}),
 * else its path, size and time, another size or time being another file (a file rewritten in
 * place at the same size within the clock's granularity is not told apart).
 */
export async function fileVersion(path: string): Promise<string> {
  const known = declared.getStore();
  if (known?.path === path) return `sha256:${known.sha256}`;
  const { size, mtimeMs } = await stat(path);
  return `${path}\0${size}\0${mtimeMs}`;
}

import { stat } from 'node:fs/promises';

/**
 * The version of the file at `path` that what a process keeps of it between reads (where its
 * rows or pages start) is keyed by: a stored document's file by its sha256, another by its path,
 * size and time, another size or time being another file.
 */
export async function fileKey(path: string, sha256: string | undefined): Promise<string> {
  if (sha256 !== undefined) return `sha256:${sha256}`;
  const { size, mtimeMs } = await stat(path);
  return `${path}\0${size}\0${mtimeMs}`;
}

import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ReamError } from '../errors.ts';

/**
 * Every file under `root`, recursively, hidden files and folders (`.name`) left out; symbolic
 * links are followed. "File" is anything that is not a folder: a named pipe, a socket or a device
 * is listed too, and so is a link that leads nowhere (dangling, or into a folder that cannot be
 * read), for the run to give each a failed line rather than leave it out unsaid.
 *
 * A folder that cannot be read (no permission) stops the collection (`io_error`, naming it as
 * `shown` gives it): better to stop than to process less than the user asked for.
 */
export async function filesUnder(root: string, shown: (path: string) => string): Promise<string[]> {
  const files: string[] = [];
  await walk(root, [await realReadable(root, shown)], files, shown);
  return files;
}

async function realReadable(folder: string, shown: (path: string) => string): Promise<string> {
  try {
    return await realpath(folder);
  } catch (error) {
    throw unreadableFolder(folder, error, shown);
  }
}

function unreadableFolder(folder: string, error: unknown, shown: (path: string) => string): ReamError {
  const reason = (error as NodeJS.ErrnoException | null)?.code ?? (error instanceof Error ? error.message : String(error));
  return ReamError.nonRetryable('io_error', `cannot read the folder ${shown(folder)} (${reason}): its files would be left out; make it readable, or leave it out of the inputs`, { cause: error });
}

/** `ancestors`: the real paths of the folders being walked, `folder`'s own last. */
async function walk(folder: string, ancestors: readonly string[], files: string[], shown: (path: string) => string): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    throw unreadableFolder(folder, error, shown);
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      await walk(path, [...ancestors, await realReadable(path, shown)], files, shown);
      continue;
    }
    if (!entry.isSymbolicLink()) {
      files.push(path);
      continue;
    }
    // A link that leads nowhere is listed: opening it fails, and its line says why.
    const target = await stat(path).catch(() => undefined);
    if (!target?.isDirectory()) {
      files.push(path);
      continue;
    }
    const real = await realReadable(path, shown);
    // A link to a folder being walked (`sub/loop -> ..`) would walk it again, without end.
    if (!ancestors.includes(real)) await walk(path, [...ancestors, real], files, shown);
  }
}

import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ReamError } from '../errors.ts';

/**
 * Every file under `root`, recursively, hidden files and folders (`.name`) left out. "File" is
 * anything that is not a folder: a named pipe, a socket or a device is listed too, and so is a
 * link that leads nowhere (dangling, or into a folder that cannot be read), for the run to give
 * each a failed line rather than leave it out unsaid.
 *
 * Links to folders are followed, but each real folder is read once: a link to a folder already
 * read (`sub/loop -> ..`, `b -> a`) is passed over, or the same files would be processed again
 * under other names. Links are followed after the folders reached without one, so a file keeps
 * its own name where it has one. `visited` (real paths of the folders read) is shared by the
 * inputs of one run; `root` itself is read even if visited (named twice, as `in` and `in/sub`).
 *
 * A folder that cannot be read (no permission) stops the collection (`io_error`, naming it as
 * `shown` gives it): better to stop than to process less than the user asked for.
 */
export async function filesUnder(root: string, shown: (path: string) => string, visited = new Set<string>()): Promise<string[]> {
  const files: string[] = [];
  const links: string[] = [];
  visited.add(await realReadable(root, shown));
  await walk(root, { files, links, visited, shown, viaLink: false });
  // A queue: a followed link's folder may hold links of its own, which join the end.
  for (let i = 0; i < links.length; i++) {
    const link = links[i] as string;
    const real = await realReadable(link, shown);
    if (visited.has(real)) continue;
    visited.add(real);
    await walk(link, { files, links, visited, shown, viaLink: true });
  }
  return files;
}

interface Walk {
  files: string[];
  /** Links to folders met so far, to follow once the folders reached without one are read. */
  links: string[];
  visited: Set<string>;
  shown: (path: string) => string;
  /** Whether `folder` was reached through a link: then a subfolder already read is passed over. */
  viaLink: boolean;
}

async function walk(folder: string, at: Walk): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    throw unreadableFolder(folder, error, at.shown);
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      const real = await realReadable(path, at.shown);
      // Reached without a link, a folder is read even if it was (the same names again, which
      // the caller de-duplicates): a subfolder of two inputs, `in` and `in/sub`.
      if (at.viaLink && at.visited.has(real)) continue;
      at.visited.add(real);
      await walk(path, at);
      continue;
    }
    if (!entry.isSymbolicLink()) {
      at.files.push(path);
      continue;
    }
    // A link that leads nowhere is listed: opening it fails, and its line says why.
    const target = await stat(path).catch(() => undefined);
    if (target?.isDirectory()) at.links.push(path);
    else at.files.push(path);
  }
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

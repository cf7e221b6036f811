import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Every file under `root`, recursively, hidden files and folders (`.name`) left out; symbolic
 * links are followed. "File" is anything that is not a folder: a named pipe, a socket or a device
 * is listed too, for the run to give it a failed line (it is refused when opened) rather than
 * leave it out unsaid.
 */
export async function filesUnder(root: string): Promise<string[]> {
  const files: string[] = [];
  await walk(root, [await realpath(root)], files);
  return files;
}

/** `ancestors`: the real paths of the folders being walked, `folder`'s own last. */
async function walk(folder: string, ancestors: readonly string[], files: string[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      await walk(path, [...ancestors, await realpath(path)], files);
      continue;
    }
    if (!entry.isSymbolicLink()) {
      files.push(path);
      continue;
    }
    const target = await stat(path).catch(() => undefined);
    if (!target) continue;
    if (!target.isDirectory()) {
      files.push(path);
      continue;
    }
    const real = await realpath(path);
    // A link to a folder being walked (`sub/loop -> ..`) would walk it again, without end.
    if (!ancestors.includes(real)) await walk(path, [...ancestors, real], files);
  }
}

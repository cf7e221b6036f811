// Whether a data dir was ever opened through the library (`createReam`) rather than by a ream
// command. Its jobs are then the library's as much as any command's, and nothing in them says
// whose: `ream gc --remove`, which removes the jobs no command resumes, must leave such a data dir
// alone, as it does a served one.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file a library open leaves in the data dir (kept: a later command open does not erase it). */
export const LIBRARY_USE_FILE = 'opened-by-library';

let commandProcess = false;

/** Called by the `ream` command line before it opens anything: its opens are no library use. */
export function markCommandProcess(): void {
  commandProcess = true;
}

/** Records, in an embedded data dir just locked, that the library opened it (unless this is the `ream` command). */
export function recordLibraryUse(dataDir: string): void {
  if (commandProcess || existsSync(join(dataDir, LIBRARY_USE_FILE))) return;
  writeFileSync(join(dataDir, LIBRARY_USE_FILE), 'This data dir was opened through the library (createReam): ream gc --remove leaves its jobs alone.\n');
}

export function openedByLibrary(dataDir: string): boolean {
  return existsSync(join(dataDir, LIBRARY_USE_FILE));
}

import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p`, one folder at a time from the nearest that exists. Not `mkdirSync(path, { recursive:
 * true })`: where a mkdir fails ENOENT although its parent is there (`/proc/x`), Node's recursive
 * mkdir makes the parent again and retries, forever: `ream run --data-dir /proc/x` or `--out
 * /proc/x/out.jsonl` hung, deaf even to SIGTERM.
 */
export function makeFolders(path: string): void {
  const missing: string[] = [];
  for (let at = resolve(path); !existsSync(at); at = dirname(at)) {
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const folder of missing) {
    try {
      mkdirSync(folder);
    } catch (error) {
      // Made meanwhile by another process: as good as made here, if it is a folder.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(folder).isDirectory()) throw error;
    }
  }
  if (!statSync(path).isDirectory()) throw Object.assign(new Error(`EEXIST: file already exists, mkdir '${path}'`), { code: 'EEXIST' });
}

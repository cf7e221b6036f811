import { stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { ReamError } from '../errors.ts';
import { notRegularFile } from '../file-kind.ts';
import { filesUnder } from './walk-folder.ts';

export interface InputFile {
  /** Absolute path: the key a resumed run matches on. */
  absolute: string;
  /** As the user sees it: relative to the working directory (or the results file's base) when inside it. */
  display: string;
}

/**
 * Expands the CLI's inputs — files, directories (recursively; hidden files and folders are
 * left out) and glob patterns (an input naming a path that exists is that path, whatever
 * characters it has) — into a sorted, de-duplicated list. A named path that does not
 * exist or is no regular file (a pipe, a device), or a pattern that matches nothing, is a usage
 * error: better to stop than to process less than the user asked for. Inputs are read from `cwd`;
 * files are displayed relative to `base` (the folder a resumed results file names files from).
 */
export async function collectFiles(inputs: readonly string[], cwd = process.cwd(), base = cwd): Promise<InputFile[]> {
  const found = new Set<string>();
  // Real folders read so far, across the inputs: each is read once (see filesUnder).
  const visited = new Set<string>();
  for (const input of inputs) {
    const absolute = resolve(cwd, input);
    const info = await stat(absolute).catch(() => undefined);
    // A path that exists is that path, even if it reads as a pattern: `scan (2).pdf`, `+(x).pdf`
    // and `dl (1)/` are real names (a browser's downloads), not globs that match nothing.
    if (!info && isDynamicPattern(input)) {
      const matches = await glob(input, { cwd, absolute: true, onlyFiles: true, dot: false });
      if (matches.length === 0) throw ReamError.nonRetryable('validation_failed', `no file matches ${input}`);
      for (const match of matches) found.add(resolve(match));
      continue;
    }
    if (!info) throw ReamError.nonRetryable('not_found', `no such file or directory: ${input}`);
    if (info.isDirectory()) {
      const matches = await filesUnder(absolute, (path) => displayOf(path, cwd), visited);
      // As for a pattern that matches nothing: a mistyped folder is said, not a success of 0 files.
      if (matches.length === 0) throw ReamError.nonRetryable('validation_failed', `no file in ${input} (hidden files are left out)`);
      for (const match of matches) found.add(resolve(match));
    } else if (info.isFile()) {
      found.add(absolute);
    } else {
      // A named pipe, socket or device named outright: refused before the run starts (opening
      // a pipe would wait for a writer forever). Met inside a folder, it gets a failed line.
      throw notRegularFile(input, info);
    }
  }
  return [...found].sort().map((absolute) => ({ absolute, display: displayOf(absolute, base) }));
}

/** Relative to `cwd` when inside it, else absolute. */
function displayOf(absolute: string, cwd: string): string {
  const rel = relative(cwd, absolute);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : absolute;
}

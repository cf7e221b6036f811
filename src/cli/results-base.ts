// The folder the lines of a results file name their files from, when the data dir has no record
// of it: a resume from another folder with another data dir (`cd in && ream run . -o
// ../out.jsonl` leaves `.ream` behind in the first folder). Guessed from where the files the
// lines name are: the folder of the run, an input folder, the results file's folder, or one of
// their parents — the one under which most of them exist.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';

/** Lines looked at, spread over the file: enough to tell the folders apart, few enough to cost nothing. */
const SAMPLE = 200;

function foldersUp(from: string): string[] {
  const folders: string[] = [];
  for (let folder = from; ; folder = dirname(folder)) {
    folders.push(folder);
    if (dirname(folder) === folder) return folders;
  }
}

/** The relative paths a sample of the lines of `out` name (absolute ones tell nothing about a folder). */
function namedPaths(out: string): string[] {
  const paths: string[] = [];
  const lines = readFileSync(out, 'utf8').split('\n');
  const step = Math.max(1, Math.floor(lines.length / SAMPLE));
  for (let i = 0; i < lines.length; i += step) {
    const raw = lines[i] ?? '';
    try {
      const { path } = JSON.parse(raw) as { path?: unknown };
      if (typeof path === 'string' && !isAbsolute(path)) paths.push(path);
    } catch {
      // a torn last line, or not a results file at all: ResultsFile says so
    }
  }
  return paths;
}

/**
 * The folder under which most files the lines of `out` name exist, `cwd` first when it ties;
 * `undefined` when `out` is no file or none of them exist anywhere looked at.
 */
export function guessResultsBase(out: string, cwd: string, inputs: readonly string[] = []): string | undefined {
  if (!existsSync(out) || !statSync(out).isFile()) return undefined;
  const paths = namedPaths(out);
  if (paths.length === 0) return undefined;
  let best: { folder: string; found: number } | undefined;
  const starts = [cwd, ...inputs.map((input) => resolve(cwd, input)), dirname(resolve(out))];
  for (const folder of new Set(starts.flatMap(foldersUp))) {
    const found = paths.filter((path) => existsSync(resolve(folder, path))).length;
    if (found > (best?.found ?? 0)) best = { folder, found };
  }
  return best?.folder;
}

// Which ream the PDF bench runs. Users run the built `dist/` (bin/ream.js without
// REAM_FROM_SOURCE), where no thread strips types from every module it loads: the sources cost
// ~20 MB more peak RSS and ~0.6 CPU s more per run, so the bench measures `dist/` by default and
// refuses a `dist/` older than the sources rather than measure code that is not the checkout's.
// BENCH_FROM_SOURCE=1 runs the TypeScript sources instead.
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

export const fromSource = (): boolean => process.env.BENCH_FROM_SOURCE === '1';

/** The path of a ream module (`cli/run-command`), in `dist/` or (BENCH_FROM_SOURCE=1) in `src/`. */
export function srcOrDist(module: string): string {
  return fromSource() ? join(root, 'src', `${module}.ts`) : join(root, 'dist', `${module}.js`);
}

/** The module that holds `runCommand`. */
export const runCommandModule = (): string => srcOrDist('cli/run-command');

/** Every TypeScript source under src/, relative to it. */
async function sources(): Promise<string[]> {
  const entries = await readdir(join(root, 'src'), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')).map((e) => relative(join(root, 'src'), join(e.parentPath, e.name)));
}

const mtime = async (path: string): Promise<number | undefined> => (await stat(path).catch(() => undefined))?.mtimeMs;

/**
 * Throws, saying what to run, when a source has no compiled module in `dist/` or is newer than
 * it. Nothing to check when running from source.
 */
export async function assertBuildCurrent(): Promise<void> {
  if (fromSource()) return;
  const hint = 'run `npm run build` first (or BENCH_FROM_SOURCE=1 to bench the sources)';
  for (const source of await sources()) {
    const built = await mtime(join(root, 'dist', source.replace(/\.ts$/, '.js')));
    if (built === undefined) throw new Error(`bench: dist/ has no build of src/${source}; ${hint}`);
    if ((await mtime(join(root, 'src', source)) ?? 0) > built) throw new Error(`bench: dist/ is older than src/${source}; ${hint}`);
  }
}

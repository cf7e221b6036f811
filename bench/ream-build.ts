// Which ream the benches run. Users run the CLI's bundle (bin/ream.js without REAM_FROM_SOURCE
// runs dist/bundle/, scripts/bundle-cli.ts), where no thread strips types from every module it
// loads (the sources cost ~20 MB more peak RSS and ~0.6 CPU s more per run) and a few files load
// instead of ~650. So the benches measure the bundle by default and refuse one older than the
// sources rather than measure code that is not the checkout's. BENCH_FROM_SOURCE=1 runs the
// TypeScript sources instead.
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

export const fromSource = (): boolean => process.env.BENCH_FROM_SOURCE === '1';

/** CLI modules the bundle has as entries of their own (scripts/bundle-cli.ts), for the benches to call in-process. */
export type CliModule = 'cli/run-command' | 'cli/rows-command' | 'cli/process-heap';

/** The path of a CLI module (`cli/run-command`), in the bundle or (BENCH_FROM_SOURCE=1) in `src/`. */
export function cliModule(module: CliModule): string {
  return fromSource() ? join(root, 'src', `${module}.ts`) : join(root, 'dist', 'bundle', `${module.slice('cli/'.length)}.js`);
}

/** Every TypeScript source under src/, relative to it. */
async function sources(): Promise<string[]> {
  const entries = await readdir(join(root, 'src'), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')).map((e) => relative(join(root, 'src'), join(e.parentPath, e.name)));
}

const mtime = async (path: string): Promise<number | undefined> => (await stat(path).catch(() => undefined))?.mtimeMs;

/**
 * Throws, saying what to run, when a source has no compiled module in `dist/` or is newer than
 * it or than the bundle. Nothing to check when running from source.
 */
export async function assertBuildCurrent(): Promise<void> {
  if (fromSource()) return;
  const hint = 'run `npm run build` first (or BENCH_FROM_SOURCE=1 to bench the sources)';
  const bundled = await mtime(join(root, 'dist', 'bundle', 'main.js'));
  if (bundled === undefined) throw new Error(`bench: there is no dist/bundle/; ${hint}`);
  for (const source of await sources()) {
    const built = await mtime(join(root, 'dist', source.replace(/\.ts$/, '.js')));
    if (built === undefined) throw new Error(`bench: dist/ has no build of src/${source}; ${hint}`);
    const changed = (await mtime(join(root, 'src', source))) ?? 0;
    if (changed > Math.min(built, bundled)) throw new Error(`bench: dist/ is older than src/${source}; ${hint}`);
  }
}

// `npm run build` step: the CLI as a few files (dist/bundle/), built from tsc's dist/ by rolldown.
// Node loads an ES module file by file: `ream rows` loaded ~650 of them (ream's ~190, kysely's
// 257, ajv's 66, …), ~0.15 s of every command's start and as much again in each pool thread.
// Here ream and the pure-JavaScript packages it needs at start-up are one file per entry plus
// the chunks they share; lazily imported parts (PDF, OCR, distributed mode) stay lazy, as chunks.
// Packages that find files of their own (native addons, workers, wasm, fonts) stay external and
// load from node_modules as before. bin/ream.js runs the bundle when it is there; the library
// (package exports) stays dist/ as tsc writes it.
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('../', import.meta.url));

/** Packages put into the bundle: plain JavaScript, loaded at every start. */
const BUNDLED = ['kysely', 'ajv', 'fast-uri', 'fast-deep-equal', 'json-schema-traverse', '@opentelemetry/api', 'commander', 'cli-progress', 'csv-parse', 'csv-stringify'];

const bundled = (id: string): boolean => BUNDLED.some((name) => id === name || id.startsWith(`${name}/`));

const BUNDLE_DIR = `${root}dist/bundle`;

/**
 * Entries: the CLI (`main`), the pool threads' and the template threads' modules (thread-pool.ts
 * and template-threads.ts find `pool-worker.js`, `template-worker.js` beside their own chunk),
 * and the commands the benchmarks call in-process.
 */
const ENTRIES = {
  main: 'dist/cli/main.js',
  'pool-worker': 'dist/runtime/pool-worker.js',
  'template-worker': 'dist/reports/template/template-worker.js',
  'rows-command': 'dist/cli/rows-command.js',
  'run-command': 'dist/cli/run-command.js',
  'process-heap': 'dist/cli/process-heap.js',
};

export async function bundleCli(): Promise<void> {
  await rm(BUNDLE_DIR, { recursive: true, force: true });
  await build({
    input: Object.fromEntries(Object.entries(ENTRIES).map(([name, path]) => [name, `${root}${path}`])),
    platform: 'node',
    // Bare specifiers not bundled load from node_modules at run time; ream's own files (relative) are bundled.
    external: (id) => !id.startsWith('.') && !id.startsWith('/') && !bundled(id),
    logLevel: 'warn',
    output: { dir: BUNDLE_DIR, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
  });
}

if (import.meta.main) await bundleCli();

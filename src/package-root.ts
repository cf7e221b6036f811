// The package's top folder, where package.json is, from wherever this module runs: src/ and
// dist/ (one folder per concern) or dist/bundle/ (the CLI's bundle, scripts/bundle-cli.ts, where
// the modules of every folder sit together), so a fixed `../..` from a module's own URL would
// be right in some of them only.
import { existsSync } from 'node:fs';

function findRoot(): URL {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    if (existsSync(new URL('package.json', dir))) return dir;
    if (new URL('../', dir).href === dir.href) throw new Error(`no package.json above ${import.meta.url}`);
  }
}

/** The package's top folder, as a `file:` URL ending in `/`. */
export const PACKAGE_ROOT = findRoot();

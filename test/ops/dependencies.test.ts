// What an installed ream loads must be installed with it: `npm install ream` brings the
// `dependencies`, never the `devDependencies`. A package that src/ imports at run time (the SDK,
// the CLI's client commands) but that only the checkout has would fail for every user.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/env.ts';

/** The package a bare specifier names: `@scope/name` or `name`, without a subpath. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0] ?? specifier;
}

/** The packages a module imports at run time (`import type` and `export type` are erased). */
function runtimeImports(source: string): string[] {
  const found: string[] = [];
  const statics = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  const dynamics = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const match of source.matchAll(statics)) found.push(match[1] ?? '');
  for (const match of source.matchAll(dynamics)) found.push(match[1] ?? '');
  return found.filter((s) => s !== '' && !s.startsWith('.') && !s.startsWith('/') && !s.startsWith('node:')).map(packageOf);
}

test('every package src/ imports at run time is a dependency, not a devDependency', async () => {
  const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const src = join(repoRoot, 'src');
  const missing: string[] = [];
  for (const entry of await readdir(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    for (const name of runtimeImports(await readFile(path, 'utf8'))) {
      if (!(name in pkg.dependencies)) missing.push(`${name} (src/${relative(src, path)})`);
    }
  }
  assert.deepEqual([...new Set(missing)], []);
});

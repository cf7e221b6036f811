#!/usr/bin/env node
// The published package runs the CLI's bundle (dist/bundle/, a few files instead of ~650 to load:
// scripts/bundle-cli.ts), else the compiled dist/. In a checkout without a build, Node >= 22.18
// runs the TypeScript sources directly (type stripping), so `npm test` needs no build step.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { nodeVersionProblem, sourcesNodeProblem } from './node-version.js';

// Checked before anything native loads: on an older Node the SQLite addon crashes the process
// (a bare "Segmentation fault") instead of saying what is wrong.
const problem = nodeVersionProblem(process.versions.node);
if (problem !== undefined) {
  process.stderr.write(`${problem}\n`);
  process.exit(2);
}

// Node keeps the code it compiled for each module on disk (os.tmpdir()/node-compile-cache) and
// reuses it on the next start: `ream --version` takes ~100 ms instead of ~120, `ream run` ~0.03 s less.
// NODE_DISABLE_COMPILE_CACHE=1 turns it off; NODE_COMPILE_CACHE=<dir> moves it.
module.enableCompileCache();

const built = [new URL('../dist/bundle/main.js', import.meta.url), new URL('../dist/cli/main.js', import.meta.url)].find((url) => existsSync(url));
const fromSources = !built || process.env.REAM_FROM_SOURCE;
const sourcesProblem = fromSources ? sourcesNodeProblem(process.versions.node, built ? 'REAM_FROM_SOURCE=1' : 'a checkout without a build') : undefined;
if (sourcesProblem !== undefined) {
  process.stderr.write(`${sourcesProblem}\n`);
  process.exit(2);
}
const { main } = fromSources ? await import('../src/cli/main.ts') : await import(built.href);
await main(process.argv);

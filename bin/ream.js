#!/usr/bin/env node
// The published package runs the compiled dist/. In a checkout without a build, Node >= 22.18
// runs the TypeScript sources directly (type stripping), so `npm test` needs no build step.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
const { main } = existsSync(compiled) && !process.env.REAM_FROM_SOURCE ? await import(compiled.href) : await import('../src/cli/main.ts');
await main(process.argv);

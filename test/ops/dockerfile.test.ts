// The Dockerfile's build stage runs `npm run build` on the files it copied in: every file the
// build script names must be among them, or `docker compose up --build` stops at the build.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/env.ts';

test("the Dockerfile copies every file the build script runs before it runs it", async () => {
  const dockerfile = await readFile(join(repoRoot, 'Dockerfile'), 'utf8');
  const scripts = (JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const buildStage = dockerfile.slice(0, dockerfile.indexOf('RUN npm run build'));
  assert.ok(buildStage.length > 0, 'the build stage runs npm run build');
  // The sources of every COPY before the build (the last word of a line is its destination).
  const copied = [...buildStage.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].flatMap((m) => (m[1] ?? '').trim().split(/\s+/).slice(0, -1));
  const covered = (path: string): boolean => copied.some((source) => path === source || path.startsWith(`${source.replace(/\/$/, '')}/`));
  // Files the build script and the scripts it runs name: `scripts/bundle-cli.ts`, `ui/vite.config.ts`, …
  const build = [scripts.build ?? '', ...Object.entries(scripts).filter(([name]) => (scripts.build ?? '').includes(`npm run ${name}`)).map(([, command]) => command)].join(' ');
  const named = [...build.matchAll(/(?:^|\s)([\w.-]+\/[\w./-]+\.(?:ts|json|js))/g)].map((m) => m[1] ?? '');
  assert.ok(named.includes('scripts/bundle-cli.ts'), build);
  assert.deepEqual(named.filter((path) => !covered(path)), []);
});

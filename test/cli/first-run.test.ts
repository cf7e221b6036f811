import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { MINIMUM_NODE, MINIMUM_NODE_FOR_SOURCES, nodeVersionProblem, sourcesNodeProblem } from '../../bin/node-version.js';
import { repoRoot } from '../support/env.ts';
import { runReam } from '../support/run-ream.ts';

const run = promisify(execFile);
const checkVersion = nodeVersionProblem;

/** A Node.js older than ream's minimum on this machine (Debian's system Node), if there is one. */
async function oldNode(): Promise<string | undefined> {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    try {
      const { stdout } = await run(candidate, ['-p', 'process.versions.node']);
      if (checkVersion(stdout.trim()) !== undefined) return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}

void describe('first run', () => {
  void test('the version check names the version it needs and how to get Node 24', () => {
    assert.equal(MINIMUM_NODE, '22.15.0');
    for (const version of ['20.20.2', '18.0.0', '22.12.9', '22.13.1', '22.14.0']) {
      const message = checkVersion(version) ?? '';
      assert.match(message, new RegExp(`this is Node.js ${version.replaceAll('.', '\\.')}; ream needs Node.js 22\\.15\\.0 or newer`));
      assert.match(message, /npm install -g node@24/);
    }
    for (const version of ['22.15.0', '22.18.1', '24.21.0', '25.0.0', '100.1.1']) assert.equal(checkVersion(version), undefined, version);
  });

  void test('the sources (no build, REAM_FROM_SOURCE, npm test) need type stripping without a flag: Node 22.18, said so', () => {
    assert.equal(MINIMUM_NODE_FOR_SOURCES, '22.18.0');
    const message = sourcesNodeProblem('22.15.1', 'a checkout without a build') ?? '';
    assert.match(message, /this is Node\.js 22\.15\.1; a checkout without a build runs ream's TypeScript sources, which needs Node\.js 22\.18\.0 or newer/);
    assert.match(message, /npm run build/);
    assert.doesNotMatch(sourcesNodeProblem('22.17.0', '`npm test`', false) ?? '', /npm run build/, 'a build does not run the tests');
    for (const version of ['22.18.0', '24.21.0']) assert.equal(sourcesNodeProblem(version, 'x'), undefined, version);
  });

  void test('the CLI keeps its compiled code in Node\'s compile cache, under the temp dir, unless told not to', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ream-compile-cache-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: dir };
      delete env.NODE_COMPILE_CACHE;
      delete env.NODE_DISABLE_COMPILE_CACHE;
      const { stdout } = await run(process.execPath, [join(repoRoot, 'bin/ream.js'), '--version'], { env });
      const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
      assert.equal(stdout.trim(), version, '--version prints the package\'s version');
      assert.ok((await readdir(join(dir, 'node-compile-cache'))).length > 0, 'a cache for this Node');
      const off = await mkdtemp(join(dir, 'off-'));
      await run(process.execPath, [join(repoRoot, 'bin/ream.js'), '--version'], { env: { ...env, TMPDIR: off, NODE_DISABLE_COMPILE_CACHE: '1' } });
      assert.deepEqual(await readdir(off), [], 'nothing written when disabled');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void test('on an old Node the CLI exits 2 with that message instead of crashing', async (t) => {
    const node = await oldNode();
    if (node === undefined) return t.skip('no Node.js older than 22.15 on this machine to try');
    const result = await run(node, [join(repoRoot, 'bin/ream.js'), 'run', '.']).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(result.code, 2);
    assert.match(result.stderr, /ream needs Node\.js 22\.15\.0 or newer/);
    assert.doesNotMatch(result.stderr, /Segmentation|Error:/);
  });

  void test('npm install on an old Node stops with the engine error (engine-strict)', async (t) => {
    const node = await oldNode();
    if (node === undefined) return t.skip('no Node.js older than 22.15 on this machine to try');
    const npmCli = join(node, '../../lib/node_modules/npm/bin/npm-cli.js');
    const dir = await mkdtemp(join(tmpdir(), 'ream-engine-'));
    try {
      await copyFile(join(repoRoot, 'package.json'), join(dir, 'package.json'));
      await copyFile(join(repoRoot, '.npmrc'), join(dir, '.npmrc'));
      // With the lock file npm needs no registry metadata to get to the engine check (--offline and
      // an empty cache would otherwise fail first, with ENOTCACHED).
      await copyFile(join(repoRoot, 'package-lock.json'), join(dir, 'package-lock.json'));
      const result = await run(node, [npmCli, 'install', '--dry-run', '--offline', '--no-audit', '--no-fund'], { cwd: dir }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      assert.notEqual(result.code, 0, 'npm install went ahead on an old Node');
      assert.match(result.stderr, /EBADENGINE/);
      assert.match(result.stderr, /"node":">=22\.15"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void test('usage errors exit 2: `ream run` with no inputs, an unknown command, a bad flag value', async () => {
    for (const args of [['run'], ['no-such-command'], ['run', 'x.pdf', '--concurrency', 'many']]) {
      const result = await runReam(args);
      assert.equal(result.code, 2, `ream ${args.join(' ')} exited ${String(result.code)}: ${result.stderr}`);
      assert.match(result.stderr, /error/i);
    }
    const help = await runReam(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: ream/);
    // `help` names a subcommand as deep as it goes, as `… --help` does.
    const nested = await runReam(['help', 'keys', 'create']);
    assert.equal(nested.code, 0, nested.stderr);
    assert.match(nested.stdout, /Usage: ream keys create/);
    assert.equal((await runReam(['help', 'keys'])).stdout.split('\n')[0], 'Usage: ream keys [options] [command]');
    const unknown = await runReam(['help', 'keys', 'nonexist']);
    assert.equal(unknown.code, 2, 'a word that names no command is a usage error');
    assert.match(unknown.stderr, /unknown command 'nonexist'/);
  });
});

// `npm test`: typecheck, lint and the test files, all at once, and fails if any of them fails.
//
// Most test files spend their time waiting on sockets, child processes and timers, not on the
// CPU, so they run several at a time (`--test-concurrency`, REAM_TEST_CONCURRENCY overrides it);
// each file keeps to its own data folder, Redis prefix and PostgreSQL schema or database (see
// docs/testing.md). Typecheck and lint run beside the tests; their output is printed once the
// tests are done. The test runner's closing summary (`# tests`, `# pass`, `# fail`, …) is held back
// and printed last, so it stays the last thing in the log whatever else is printed.
//
// Usage: node scripts/test.ts [--tests-only] [test file globs…]   (default: every test/**/*.test.ts)
// REAM_TEST_DURATIONS=<file> keeps the per-file wall times (slowest first) in that file.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Measured on the 2-core machine: 6 files at a time is about as fast as 8 and less jittery. */
const DEFAULT_CONCURRENCY = 6;
const SLOWEST_SHOWN = 15;
/** The lines of the TAP reporter's closing summary (at nesting 0, so unindented). */
const SUMMARY_LINE = /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /;

const root = fileURLToPath(new URL('../', import.meta.url));
const bin = (name: string): string => join(root, 'node_modules/.bin', name);

interface Outcome {
  name: string;
  code: number;
  seconds: number;
  output: string;
}

/**
 * Runs a command to its end with its output collected (stdout and stderr, interleaved), at a lower
 * CPU priority: it fills the time the tests spend waiting instead of slowing them down.
 */
function collect(name: string, command: string, args: readonly string[]): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, 10);
      } catch {
        // Not allowed here: it runs at the normal priority, which is only slower.
      }
    }
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr.on('data', (data: Buffer) => (output += data.toString()));
    const done = (code: number, more = ''): void => resolve({ name, code, seconds: (performance.now() - started) / 1000, output: output + more });
    child.once('error', (error) => done(1, `\n${error.message}`));
    child.once('close', (code, signal) => done(code ?? 1, signal === null ? '' : `\nkilled by ${signal}`));
  });
}

/** Runs node's test runner, streaming its TAP output but holding back the closing summary lines. */
async function runTests(globs: readonly string[], durationsFile: string): Promise<{ code: number; seconds: number; summary: string[] }> {
  const concurrency = Number(process.env.REAM_TEST_CONCURRENCY ?? DEFAULT_CONCURRENCY);
  const reporter = join(root, 'scripts/file-durations-reporter.ts');
  const args = [
    '--test',
    `--test-concurrency=${concurrency}`,
    // A file whose tests are over ends even if something it started still holds its event loop,
    // and a test that hangs fails after five minutes instead of holding the run forever.
    '--test-force-exit',
    '--test-timeout=300000',
    '--test-reporter=tap', '--test-reporter-destination=stdout',
    `--test-reporter=${reporter}`, `--test-reporter-destination=${durationsFile}`,
    ...globs,
  ];
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const summary: string[] = [];
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  for await (const line of lines) {
    if (SUMMARY_LINE.test(line)) summary.push(line);
    else process.stdout.write(`${line}\n`);
  }
  const code = await new Promise<number>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? 1);
    else child.once('close', (exitCode) => resolve(exitCode ?? 1));
  });
  return { code, seconds: (performance.now() - started) / 1000, summary };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const testsOnly = argv.includes('--tests-only');
  const globs = argv.filter((arg) => arg !== '--tests-only');
  const started = performance.now();
  const scratch = await mkdtemp(join(tmpdir(), 'ream-test-run-'));
  const durationsFile = join(scratch, 'durations.txt');
  try {
    const checks = testsOnly ? [] : [
      collect('typecheck', bin('tsc'), ['-p', 'tsconfig.json']),
      collect('lint', bin('eslint'), ['.']),
    ];
    const tests = await runTests(globs.length > 0 ? globs : ['test/**/*.test.ts'], durationsFile);
    const outcomes = await Promise.all(checks);
    const durations = await readFile(durationsFile, 'utf8').catch(() => '');
    if (process.env.REAM_TEST_DURATIONS) await writeFile(process.env.REAM_TEST_DURATIONS, durations);

    const rows = durations.split('\n').filter(Boolean);
    process.stdout.write(`# slowest test files (wall time of each file's process; ${rows.length} files):\n`);
    for (const row of rows.slice(0, SLOWEST_SHOWN)) process.stdout.write(`# ${row}\n`);
    for (const outcome of outcomes) {
      const verdict = outcome.code === 0 ? 'ok' : `FAILED (exit ${outcome.code})`;
      if (outcome.code !== 0) process.stdout.write(`\n# ---- ${outcome.name} output ----\n${outcome.output.trimEnd()}\n# ---- end of ${outcome.name} output ----\n`);
      process.stdout.write(`# ${outcome.name}: ${verdict} in ${outcome.seconds.toFixed(0)} s\n`);
    }
    const failed = [...outcomes.filter((o) => o.code !== 0).map((o) => o.name), ...(tests.code === 0 ? [] : ['tests'])];
    const wall = (performance.now() - started) / 1000;
    process.stdout.write(`# tests: ${tests.code === 0 ? 'ok' : `FAILED (exit ${tests.code})`} in ${tests.seconds.toFixed(0)} s; whole run ${wall.toFixed(0)} s\n`);
    if (failed.length > 0) process.stdout.write(`# npm test FAILED: ${failed.join(', ')}\n`);
    for (const line of tests.summary) process.stdout.write(`${line}\n`);
    return failed.length === 0 ? 0 : 1;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

process.exitCode = await main();

// `npm test`: typecheck, lint and the test files, all at once; fails if any of them fails.
//
// Most test files spend their time waiting on sockets, child processes and timers, not on the
// CPU, so several run at a time (REAM_TEST_CONCURRENCY, default below), each in its own process
// and keeping to its own data folder, Redis prefix and PostgreSQL schema or database (see
// docs/testing.md). Typecheck and lint run beside the tests; their output is printed once the
// tests are done. The output is node's TAP reporter; its closing summary (`# tests`, `# pass`,
// `# fail`, …) is held back and printed last, whatever else is printed.
//
// Usage: node scripts/test.ts [--tests-only] [test file globs…]   (default: every test/**/*.test.ts)
// REAM_TEST_DURATIONS=<file> keeps the per-file wall times (slowest first) in that file.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { run } from 'node:test';
import { tap } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';
import { glob } from 'tinyglobby';
import { fileDuration, formatDurations, type FileDuration, type TestEventData } from './file-durations-reporter.ts';
import { sourcesNodeProblem } from '../bin/node-version.js';

// The tests run the sources (and spawn the CLI from them): say so on a Node that cannot, rather than fail every file.
const sourcesProblem = sourcesNodeProblem(process.versions.node, '`npm test`', false);
if (sourcesProblem !== undefined) {
  process.stderr.write(`${sourcesProblem}\n`);
  process.exit(2);
}

/**
 * Files at a time. On 2 cores the suite is CPU-bound past about four (docs/testing.md); six keeps
 * both cores busy while some files only wait on the processes they started.
 */
const DEFAULT_CONCURRENCY = 6;
/** A test that hangs fails after this instead of holding the run forever. */
const TEST_TIMEOUT_MS = 300_000;
/**
 * The files that take longest (docs/testing.md has the times), started first so that none of
 * them starts last and makes everyone wait: the others fill in around them. A path starting
 * with one of these, in this order; every other file follows in name order.
 */
const SLOW_FIRST = [
  // CPU-bound files (the corpus parts, the server's corpus job, a 512 MiB upload) between files
  // that mostly wait on the processes they start, so that the first ones do not all fight over
  // the cores at once; the longest start first.
  'test/formats/corpus-1.test.ts',
  // OCR of one scan each, and the tesseract CLI on it (≈13 s of CPU each).
  'test/formats/ocr-corpus-',
  'test/distributed/instances.test.ts',
  'test/formats/corpus-2.test.ts',
  'test/cli/run.test.ts',
  'test/cli/run-eta.test.ts',
  'test/distributed/instances-cancel.test.ts',
  // These two mostly wait (a drain, Redis timeouts): the CPU goes to the files beside them.
  'test/distributed/drain.test.ts',
  'test/distributed/redis-stalled.test.ts',
  'test/cli/run-interrupt.test.ts',
  'test/cli/rows',
  'test/formats/corpus-3.test.ts',
  'test/distributed/cluster.test.ts',
  'test/formats/corpus-4.test.ts',
  'test/formats/corpus-5.test.ts',
  'test/formats/corpus-6.test.ts',
  'test/server/corpus.test.ts',
  'test/server/upload-memory.test.ts',
  // 85 to 120 s each in the last CI run: in name order they would start late and end the run last.
  'test/server/dashboard-rows.test.ts',
  'test/runtime/ocr-job.test.ts',
  'test/runtime/credits.test.ts',
  'test/store/postgres-store.test.ts',
  'test/distributed/',
  'test/llm/',
  'test/server/dashboard.test.ts',
  'test/cli/run-corpus.test.ts',
  'test/e2e/',
  'test/client/cli.test.ts',
  'test/hostile/',
  'test/server/auth.test.ts',
  'test/server/jwks-url.test.ts',
];
const SLOWEST_SHOWN = 15;
/** The lines of the TAP reporter's closing summary (at nesting 0, so unindented). */
const SUMMARY_LINE = /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /;

const root = fileURLToPath(new URL('../', import.meta.url));

interface Outcome {
  name: string;
  code: number;
  seconds: number;
  output: string;
}

/** Runs a command to its end with its output collected (stdout and stderr, interleaved). */
function collect(name: string, command: string, args: readonly string[]): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr.on('data', (data: Buffer) => (output += data.toString()));
    const done = (code: number, more = ''): void => resolve({ name, code, seconds: (performance.now() - started) / 1000, output: output + more });
    child.once('error', (error) => done(1, `\n${error.message}`));
    child.once('close', (code, signal) => done(code ?? 1, signal === null ? '' : `\nkilled by ${signal}`));
  });
}

/** The files in SLOW_FIRST order, then the rest by name (node's own CLI would sort them all by name). */
function ordered(files: readonly string[]): string[] {
  const rank = (file: string): number => {
    const index = SLOW_FIRST.findIndex((prefix) => file.startsWith(prefix));
    return index === -1 ? SLOW_FIRST.length : index;
  };
  return [...files].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

interface TestRun {
  passed: boolean;
  seconds: number;
  summary: string[];
  durations: FileDuration[];
  /** `file: test name` of each failed test, for the end of a long run. */
  failures: string[];
}

/** Runs the test files, streaming TAP to stdout but holding back its closing summary lines. */
async function runTests(globs: readonly string[]): Promise<TestRun> {
  const files = ordered(await glob([...globs], { cwd: root }));
  const started = performance.now();
  const durations: FileDuration[] = [];
  let passed = true;
  const stream = run({
    files: files.map((file) => join(root, file)),
    concurrency: Number(process.env.REAM_TEST_CONCURRENCY ?? DEFAULT_CONCURRENCY),
    timeout: TEST_TIMEOUT_MS,
    // A file whose tests are over ends even if something it started still holds its event loop.
    forceExit: true,
  });
  stream.on('test:complete', (data: TestEventData) => {
    const row = fileDuration(data);
    if (row) durations.push(row);
  });
  const failures: string[] = [];
  stream.on('test:fail', (data: { name: string; file?: string; details?: { type?: string } }) => {
    // A failed suite's tests are listed themselves.
    if (data.details?.type !== 'suite') failures.push(`${data.file === undefined ? '' : `${relative(root, data.file)}: `}${data.name}`);
  });
  stream.on('test:summary', (data: { file?: string; success: boolean }) => {
    if (data.file === undefined) passed &&= data.success; // the run's own summary, after every file's
  });
  const summary: string[] = [];
  let pending = '';
  for await (const chunk of stream.compose(tap)) {
    const lines = (pending + String(chunk)).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (SUMMARY_LINE.test(line)) summary.push(line);
      else process.stdout.write(`${line}\n`);
    }
  }
  if (pending) process.stdout.write(pending);
  // A run with no test at all is no success either.
  const count = (name: string): number => Number(summary.find((line) => line.startsWith(`# ${name} `))?.split(' ')[2] ?? 0);
  if (count('tests') === 0 || count('fail') > 0 || count('cancelled') > 0) passed = false;
  return { passed, seconds: (performance.now() - started) / 1000, summary, durations, failures };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const testsOnly = argv.includes('--tests-only');
  const globs = argv.filter((arg) => arg !== '--tests-only');
  process.chdir(root);
  // Every process of the run (the test files and the `ream` processes they start) shares one V8
  // compile cache: loading ream's modules again costs about a third less CPU.
  process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), 'ream-test-compile-cache');
  const started = performance.now();
  const bin = (name: string): string => join(root, 'node_modules/.bin', name);
  const checks = testsOnly ? [] : [collect('typecheck', bin('tsc'), ['-p', 'tsconfig.json']), collect('lint', bin('eslint'), ['.'])];
  const tests = await runTests(globs.length > 0 ? globs : ['test/**/*.test.ts']);
  const outcomes = await Promise.all(checks);

  const rows = formatDurations(tests.durations);
  if (process.env.REAM_TEST_DURATIONS) await writeFile(process.env.REAM_TEST_DURATIONS, rows.map((row) => `${row}\n`).join(''));
  process.stdout.write(`# slowest test files (wall time of each file's process; ${rows.length} files):\n`);
  for (const row of rows.slice(0, SLOWEST_SHOWN)) process.stdout.write(`# ${row}\n`);
  if (tests.failures.length > 0) process.stdout.write(`# failed tests (${tests.failures.length}):\n${tests.failures.map((name) => `#   ${name}\n`).join('')}`);
  for (const outcome of outcomes) {
    if (outcome.code !== 0) process.stdout.write(`\n# ---- ${outcome.name} output ----\n${outcome.output.trimEnd()}\n# ---- end of ${outcome.name} output ----\n`);
    process.stdout.write(`# ${outcome.name}: ${outcome.code === 0 ? 'ok' : `FAILED (exit ${outcome.code})`} in ${outcome.seconds.toFixed(0)} s\n`);
  }
  const failed = [...outcomes.filter((o) => o.code !== 0).map((o) => o.name), ...(tests.passed ? [] : ['tests'])];
  const wall = (performance.now() - started) / 1000;
  process.stdout.write(`# tests: ${tests.passed ? 'ok' : 'FAILED'} in ${tests.seconds.toFixed(0)} s; whole run ${wall.toFixed(0)} s\n`);
  if (failed.length > 0) process.stdout.write(`# npm test FAILED: ${failed.join(', ')}\n`);
  for (const line of tests.summary) process.stdout.write(`${line}\n`);
  return failed.length === 0 ? 0 : 1;
}

process.exitCode = await main();

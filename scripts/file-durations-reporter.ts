import { relative, resolve } from 'node:path';

/** The fields of the test runner's events this reporter reads. */
interface TestEvent {
  type: string;
  data?: { file?: string; name?: string; nesting?: number; details?: { duration_ms?: number; passed?: boolean } };
}

/**
 * A `node --test` reporter that writes one line per test file: its wall time in seconds and its
 * path, slowest first. The runner ends each file with a `test:complete` event named after the
 * file itself, as it was given (the file's subprocess, from spawn to exit): the time measured here.
 * Use it beside the usual reporter: `--test-reporter=tap --test-reporter-destination=stdout
 * --test-reporter=./scripts/file-durations-reporter.ts --test-reporter-destination=durations.txt`.
 */
export default async function* fileDurations(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const rows: { file: string; seconds: number; passed: boolean }[] = [];
  for await (const event of source) {
    const data = event.data;
    if (event.type !== 'test:complete' || data?.file === undefined || data.nesting !== 0) continue;
    if (data.name === undefined || resolve(data.name) !== data.file) continue;
    rows.push({ file: relative(process.cwd(), data.file), seconds: (data.details?.duration_ms ?? 0) / 1000, passed: data.details?.passed ?? false });
  }
  rows.sort((a, b) => b.seconds - a.seconds);
  for (const row of rows) yield `${row.seconds.toFixed(1).padStart(7)} s  ${row.passed ? 'ok  ' : 'FAIL'}  ${row.file}\n`;
}

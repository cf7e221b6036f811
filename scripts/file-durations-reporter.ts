import { relative, resolve } from 'node:path';

/** The fields of a test runner event this reporter reads. */
export interface TestEventData {
  file?: string;
  name?: string;
  nesting?: number;
  details?: { duration_ms?: number; passed?: boolean };
}

export interface FileDuration {
  file: string;
  seconds: number;
  passed: boolean;
}

/**
 * The runner ends each test file with a `test:complete` event at nesting 0 named after the file
 * itself, as it was given (the file's subprocess, from spawn to exit): its wall time. Any other
 * event gives `undefined`.
 */
export function fileDuration(data: TestEventData | undefined): FileDuration | undefined {
  if (data?.file === undefined || data.nesting !== 0 || data.name === undefined) return undefined;
  if (resolve(data.name) !== data.file) return undefined;
  return { file: relative(process.cwd(), data.file), seconds: (data.details?.duration_ms ?? 0) / 1000, passed: data.details?.passed ?? false };
}

/** One line per file, slowest first: seconds, ok/FAIL, path. */
export function formatDurations(rows: readonly FileDuration[]): string[] {
  return [...rows]
    .sort((a, b) => b.seconds - a.seconds)
    .map((row) => `${row.seconds.toFixed(1).padStart(7)} s  ${row.passed ? 'ok  ' : 'FAIL'}  ${row.file}`);
}

/**
 * A `node --test` reporter that writes the wall time of each test file, slowest first. Use it
 * beside the usual reporter: `node --test --test-reporter=spec --test-reporter-destination=stdout
 * --test-reporter=./scripts/file-durations-reporter.ts --test-reporter-destination=durations.txt`.
 */
export default async function* fileDurations(source: AsyncIterable<{ type: string; data?: TestEventData }>): AsyncGenerator<string> {
  const rows: FileDuration[] = [];
  for await (const event of source) {
    const row = event.type === 'test:complete' ? fileDuration(event.data) : undefined;
    if (row) rows.push(row);
  }
  for (const line of formatDurations(rows)) yield `${line}\n`;
}

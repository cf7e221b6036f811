// The Operate page's charts draw the server's metrics history (`GET /v1/metrics/history`): one
// sample per interval, stored by the server whether or not a console is open. This turns the
// samples into the charts' lines.
// A relative path, not the @client alias: the console's logic tests import this file under the main tsconfig.
import type { MetricsSample } from '../../src/client/index.ts';

/** Most failure codes drawn as lines of their own; the rarer ones are summed as "other". */
export const MAX_FAILURE_LINES = 4;

export interface HistoryLines {
  /** Seconds since the epoch: the end of each sample's interval. */
  times: number[];
  pagesPerSecond: number[];
  tasksPerSecond: number[];
  tokensPerSecond: number[];
  /** Failed chunks and documents per second, by error code (the most frequent first). */
  failures: Array<{ code: string; perSecond: number[] }>;
  queued: number[];
  running: number[];
  /** Seconds the oldest job not started yet had waited; 0 when none was waiting. */
  oldestQueuedSeconds: number[];
}

/** Adds `sample` to `into`, replacing one of the same interval (a sample read twice). */
export function mergeSamples(into: readonly MetricsSample[], samples: readonly MetricsSample[], keepSince: number): MetricsSample[] {
  const byAt = new Map<number, MetricsSample>();
  for (const sample of [...into, ...samples]) if (sample.at >= keepSince) byAt.set(sample.at, sample);
  return [...byAt.values()].sort((a, b) => a.at - b.at);
}

export function historyLines(samples: readonly MetricsSample[]): HistoryLines {
  const perSecond = (pick: (sample: MetricsSample) => number): number[] => samples.map((sample) => pick(sample) / (sample.intervalMs / 1000));
  const totals = new Map<string, number>();
  for (const sample of samples) for (const [code, n] of Object.entries(sample.failures)) totals.set(code, (totals.get(code) ?? 0) + n);
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([code]) => code);
  const shown = ranked.length > MAX_FAILURE_LINES ? ranked.slice(0, MAX_FAILURE_LINES - 1) : ranked;
  const others = ranked.filter((code) => !shown.includes(code));
  const failures = shown.map((code) => ({ code, perSecond: perSecond((sample) => sample.failures[code] ?? 0) }));
  if (others.length > 0) failures.push({ code: 'other', perSecond: perSecond((sample) => others.reduce((n, code) => n + (sample.failures[code] ?? 0), 0)) });
  return {
    times: samples.map((sample) => (sample.at + sample.intervalMs) / 1000),
    pagesPerSecond: perSecond((sample) => sample.pages),
    tasksPerSecond: perSecond((sample) => sample.tasks),
    tokensPerSecond: perSecond((sample) => sample.tokens),
    failures,
    queued: samples.map((sample) => sample.queued),
    running: samples.map((sample) => sample.running),
    oldestQueuedSeconds: samples.map((sample) => (sample.oldestQueuedMs ?? 0) / 1000),
  };
}

// Scheduling benchmark: how close processBatch gets to the ideal wall time, next to p-map and a
// batch-barrier loop measured in the same run (DESIGN.md §11). Items only sleep, so what is
// measured is the scheduler: how fast a freed slot is refilled, and what retries, events and a
// checkpoint file cost on the way. `node bench/scheduling.ts` prints the section on its own.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pMap from 'p-map';
import { processBatch } from '../src/batch/index.ts';

/** Repetitions per figure; the median is reported, so one noisy run does not decide. */
const REPEATS = 7;
const SEED = 42;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** mulberry32: a tiny seeded PRNG, so every contender sleeps the very same latencies. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

async function wallMs(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

type Contender = (latencies: readonly number[], concurrency: number) => Promise<unknown>;

const ours: Contender = (latencies, concurrency) => processBatch(latencies, (ms) => sleep(ms), { concurrency });

const pMapContender: Contender = (latencies, concurrency) => pMap(latencies, (ms) => sleep(ms), { concurrency });

/** The hand-written design DESIGN.md warns against: `concurrency` at a time, then wait for all. */
const barrier: Contender = async (latencies, concurrency) => {
  for (let start = 0; start < latencies.length; start += concurrency) {
    await Promise.all(latencies.slice(start, start + concurrency).map((ms) => sleep(ms)));
  }
};

/** Ours with every extra switched on: retries configured, a listener, a checkpoint file. */
function oursWithExtras(dir: string): Contender {
  let run = 0;
  return async (latencies, concurrency) => {
    let events = 0;
    const ids = latencies.map((_, i) => `doc-${i}`);
    const result = await processBatch(ids, (_, { index }) => sleep(latencies[index] ?? 0), {
      concurrency,
      retry: { maxAttempts: 3, baseDelayMs: 100 },
      onEvent: () => {
        events++;
      },
      checkpoint: { path: join(dir, `run-${run++}.checkpoint`) }, // a fresh file: nothing skipped
    });
    if (result.succeeded !== latencies.length || events === 0) throw new Error('benchmark run did not do the work');
  };
}

/**
 * Runs every contender REPEATS times, interleaved and rotated (a b c, b c a, c a b, …) so that
 * drift in machine load, and the garbage one run leaves to the next, hit them all alike.
 * Returns each one's median wall time in ms.
 */
async function medians(contenders: Contender[], latencies: readonly number[], concurrency: number): Promise<number[]> {
  const samples = contenders.map((): number[] => []);
  for (let r = 0; r < REPEATS; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (r + k) % contenders.length;
      const contender = contenders[i];
      if (contender) samples[i]?.push(await wallMs(() => contender(latencies, concurrency)));
    }
  }
  return samples.map(median);
}

const ratio = (value: number): string => `${value.toFixed(3)}×`;
const verdict = (ok: boolean): string => (ok ? 'yes' : '**no**');

interface FixedCase {
  n: number;
  latencyMs: number;
  concurrency: number;
}

const FIXED_CASES: FixedCase[] = [
  { n: 10, latencyMs: 100, concurrency: 5 },
  { n: 10, latencyMs: 100, concurrency: 10 },
  { n: 1_000, latencyMs: 20, concurrency: 50 },
];
const FIXED_TARGET = 1.03;

async function fixedLatency(): Promise<string[]> {
  const rows = [
    '| workload | ideal `ceil(n/c) × latency` | ours | p-map | target (ours) | met |',
    '|---|---:|---:|---:|---:|:---:|',
  ];
  for (const { n, latencyMs, concurrency } of FIXED_CASES) {
    const ideal = Math.ceil(n / concurrency) * latencyMs;
    const latencies = Array.from({ length: n }, () => latencyMs);
    const [oursMs = NaN, pMapMs = NaN] = await medians([ours, pMapContender], latencies, concurrency);
    const oursRatio = oursMs / ideal;
    rows.push(`| ${n.toLocaleString('en')} × ${latencyMs} ms, c=${concurrency} | ${ideal} ms | ${ratio(oursRatio)} | ${ratio(pMapMs / ideal)} | ≤ ${FIXED_TARGET.toFixed(2)}× | ${verdict(oursRatio <= FIXED_TARGET)} |`);
  }
  return rows;
}

async function variableLatency(): Promise<string[]> {
  const n = 100;
  const concurrency = 10;
  const random = seededRandom(SEED);
  const latencies = Array.from({ length: n }, () => 20 + random() * 10);
  const lowerBound = latencies.reduce((sum, ms) => sum + ms, 0) / concurrency;
  const dir = await mkdtemp(join(tmpdir(), 'ream-bench-'));
  try {
    const [oursMs = NaN, pMapMs = NaN, barrierMs = NaN] = await medians([oursWithExtras(dir), pMapContender, barrier], latencies, concurrency);
    const [oursRatio, pMapRatio, barrierRatio] = [oursMs / lowerBound, pMapMs / lowerBound, barrierMs / lowerBound];
    return [
      `| contender (${n} items, 20–30 ms seeded, c=${concurrency}; lower bound \`sum/c\` = ${lowerBound.toFixed(0)} ms) | wall ÷ \`sum/c\` | target | met |`,
      '|---|---:|---:|:---:|',
      `| ours, with retries, an event listener and a checkpoint file | ${ratio(oursRatio)} | ≤ p-map's, ≈ 1.06× | ${verdict(oursRatio <= pMapRatio * 1.01)} |`,
      `| p-map | ${ratio(pMapRatio)} | — | |`,
      `| batch barrier (${concurrency} at a time, \`Promise.all\`, next ${concurrency}) | ${ratio(barrierRatio)} | ≈ 1.16× | |`,
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The `## Scheduling` section of docs/benchmarks.md. */
export async function run(): Promise<string> {
  // Warm up the JIT for every contender, so the first measured repeat is not the slow one.
  const warmUp = Array.from({ length: 50 }, () => 1);
  for (const contender of [ours, pMapContender, barrier]) await contender(warmUp, 10);

  const fixed = await fixedLatency();
  const variable = await variableLatency();
  return [
    '## Scheduling',
    '',
    `Items that only sleep, so the figures measure the scheduler. Median of ${REPEATS} interleaved runs per figure. ` +
      'Ratios are wall time over the best possible; 1.00× would be a perfect scheduler on a perfect timer ' +
      '(Node timers fire up to ~1 ms late, and every wave of a window pays that once).',
    '',
    '**Fixed latency** (sliding window vs the ideal):',
    '',
    ...fixed,
    '',
    '**Variable latency**, the same seeded latencies for every contender ("met": ours within 1% of p-map or better):',
    '',
    ...variable,
  ].join('\n');
}

if (import.meta.main) {
  process.stdout.write(`${await run()}\n`);
}

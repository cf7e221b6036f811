// LLM analysis (issue 12): a 500-page PDF in 20-page chunks against a fake OpenAI-compatible
// server with 2 s ± 0.5 s of model latency at concurrency 8; pacing under 60 requests per
// window; a re-run answered from the response cache. `node bench/llm.ts` runs it alone.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLlmClient, type LlmClient } from '../src/analyzers/llm/llm-client.ts';
import { LocalRateWindow } from '../src/analyzers/llm/rate-window.ts';
import { llmPipeline } from '../src/pipeline/llm-pipeline.ts';
import { createReam } from '../src/runtime/create-ream.ts';
import { numberedPages, writePdf } from '../test/support/make-pdf.ts';
import { modelLatencyMs, seeded } from './seeded-random.ts';

const CONCURRENCY = 8;
/** Draws of the latencies for the floor's spread (floorOverDraws). */
const DRAWS = 100_000;

/** The model server in its own process (bench/llm-model-server.ts), driven over stdio. */
interface ModelServer {
  baseURL: string;
  scale(n: number): void;
  dump(): Promise<{ arrivals: number[]; latencies: number[] }>;
  close(): Promise<void>;
}

async function startModelServer(): Promise<ModelServer> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./llm-model-server.ts', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the model server ended');
    return value;
  };
  const ready = await next();
  return {
    baseURL: ready.replace(/^ready /, ''),
    scale: (n) => child.stdin.write(`scale ${n}\n`),
    async dump() {
      child.stdin.write('dump\n');
      return JSON.parse(await next()) as { arrivals: number[]; latencies: number[] };
    },
    async close() {
      child.stdin.end();
      await once(child, 'exit');
    },
  };
}

interface Measured {
  wallS: number;
  calls: number;
  /** Epoch ms: when the job was submitted and when it ended. */
  submittedAt: number;
  endedAt: number;
}

/**
 * Runs one job of the `llm` pipeline over `pdf` with `client`, counting the server's calls. With
 * `warmUp`, the engine first reads that PDF in two chunks (an `extract` job, no model): its two
 * parsing threads have loaded their PDF engine, as on a server that has read a PDF before.
 */
async function runJob(server: ModelServer, client: LlmClient, pdf: string, chunkPages: number, dataDir: string, warmUp?: string): Promise<Measured> {
  const ream = await createReam({
    dataDir, threads: 2, concurrency: CONCURRENCY * 2, llm: false,
    pipelines: { llm: llmPipeline(client) },
  });
  try {
    if (warmUp !== undefined) await ream.wait((await ream.submit({ options: { chunkPages: 20, index: false }, files: [warmUp] })).id);
    const before = (await server.dump()).arrivals.length;
    const started = performance.now();
    const submittedAt = performance.timeOrigin + started;
    const job = await ream.submit({ pipeline: 'llm', options: { mode: 'summarize', chunkPages, overlapPages: 0, index: false }, files: [pdf] });
    const done = await ream.wait(job.id);
    const wallS = (performance.now() - started) / 1000;
    if (done.status !== 'succeeded') throw new Error(`bench job ended ${done.status}`);
    return { wallS, calls: (await server.dump()).arrivals.length - before, submittedAt, endedAt: submittedAt + wallS * 1000 };
  } finally {
    await ream.close();
  }
}

interface Throughput {
  measured: Measured;
  ideal: number;
  listFloor: number;
  beforeFirstS: number;
  beforeReduceS: number;
  afterReduceS: number;
}

/**
 * When the last of `latencies` (ms) ends if each call starts, in order, on the first of
 * {@link CONCURRENCY} slots to be free: FIFO dispatch with no time lost. With 25 calls on 8 slots
 * the last round is partial, so no schedule that does not know the latencies in advance beats it;
 * it is the fairer floor than `sum ÷ c`, and both are shown.
 */
function listSchedule(latencies: readonly number[]): number {
  const slots = Array.from({ length: CONCURRENCY }, () => 0);
  for (const latency of latencies) {
    const i = slots.indexOf(Math.min(...slots));
    slots[i] = (slots[i] ?? 0) + latency;
  }
  return Math.max(...slots);
}

/**
 * The list-scheduling floor ÷ the ideal over many draws of the bench's latencies (25 map calls
 * and a reduce, each 1.5–2.5 s, uniform, as bench/llm-model-server.ts draws them): how often any
 * FIFO schedule can meet `wall ÷ ideal ≤ 1.1` at all.
 */
function floorOverDraws(draws: number): { median: number; p5: number; p95: number; withinGoal: number } {
  const random = seeded(7);
  const ratios: number[] = [];
  for (let draw = 0; draw < draws; draw++) {
    const maps = Array.from({ length: 25 }, () => modelLatencyMs(random));
    const reduce = modelLatencyMs(random);
    ratios.push((listSchedule(maps) + reduce) / (maps.reduce((a, b) => a + b, 0) / CONCURRENCY + reduce));
  }
  ratios.sort((a, b) => a - b);
  const at = (q: number): number => ratios[Math.floor(q * (draws - 1))] ?? Number.NaN;
  return { median: at(0.5), p5: at(0.05), p95: at(0.95), withinGoal: ratios.filter((r) => r <= 1.1).length / draws };
}

/** One 25-chunk job and, from the server's record of its calls, its ideal, its floor and where the rest of its time went. */
async function throughput(server: ModelServer, client: LlmClient, book: string, dataDir: string, warmUp?: string): Promise<Throughput> {
  const from = (await server.dump()).arrivals.length;
  const measured = await runJob(server, client, book, 20, dataDir, warmUp);
  const dump = await server.dump();
  const arrivals = dump.arrivals.slice(from);
  const latencies = dump.latencies.slice(from);
  const n = measured.calls;
  // Where the wall time beyond the model's goes: before the first call, between the last map
  // answer and the reduce call, and after the reduce answer.
  const mapEnds = arrivals.slice(0, n - 1).map((at, i) => at + (latencies[i] ?? 0));
  const reduceAt = arrivals[n - 1] ?? 0;
  const mapLatencies = latencies.slice(0, n - 1);
  const reduceS = (latencies[n - 1] ?? 0) / 1000;
  const sumS = mapLatencies.reduce((a, b) => a + b, 0) / 1000;
  return {
    measured,
    ideal: sumS / CONCURRENCY + reduceS,
    listFloor: listSchedule(mapLatencies) / 1000 + reduceS,
    beforeFirstS: ((arrivals[0] ?? 0) - measured.submittedAt) / 1000,
    beforeReduceS: (reduceAt - Math.max(...mapEnds)) / 1000,
    afterReduceS: (measured.endedAt - reduceAt - (latencies[n - 1] ?? 0)) / 1000,
  };
}

export async function run(): Promise<string> {
  const server = await startModelServer();
  const dir = await mkdtemp(join(tmpdir(), 'ream-bench-llm-'));
  try {
    const book = join(dir, 'book.pdf');
    await writePdf(book, { pages: numberedPages('Chapter text', 500) });
    const settings = { baseURL: server.baseURL, model: 'bench', maxConcurrency: CONCURRENCY };

    // 1. Throughput: 25 chunks of 20 pages, then one reduce call; a cold engine (its threads load
    // their PDF engine during the job) and a warm one (another book, so nothing is cached).
    const client = createLlmClient(settings);
    const cold = await throughput(server, client, book, join(dir, 'a'));
    const warmBook = join(dir, 'book-2.pdf');
    await writePdf(warmBook, { pages: numberedPages('Second volume text', 500) });
    const warmUp = join(dir, 'warm-up.pdf');
    await writePdf(warmUp, { pages: numberedPages('Warm-up page', 40) });
    const warm = await throughput(server, client, warmBook, join(dir, 'w'), warmUp);

    // 2. Re-run: the same book in a new job of the same data dir: every answer from the cache.
    const again = await runJob(server, client, book, 20, join(dir, 'a'));

    // 3. Pacing: 150 one-page chunks under 60 requests per window, the window shortened to 6 s
    // (10× a minute) to keep the run short; the sliding-window logic does not depend on its length.
    const windowMs = 6_000;
    const limit = 60;
    const paced = createLlmClient(settings, { window: new LocalRateWindow({ requestsPerMinute: limit, windowMs }) });
    server.scale(10); // latency shortened as much as the window: 200 ms ± 50 ms
    const pacedBook = join(dir, 'paced.pdf');
    await writePdf(pacedBook, { pages: numberedPages('Paced page', 150) });
    const from = (await server.dump()).arrivals.length;
    const third = await runJob(server, paced, pacedBook, 1, join(dir, 'b'));
    // Arrival times at the server, as a provider counts them.
    const pacedStarts = (await server.dump()).arrivals.slice(from).sort((a, b) => a - b);
    const t0 = pacedStarts[0] ?? 0;
    let worst = 0;
    for (const start of pacedStarts) worst = Math.max(worst, pacedStarts.filter((s) => s >= start && s < start + windowMs).length);
    const fullWindows = Math.floor(((pacedStarts.at(-1) ?? t0) - t0) / windowMs);
    const perWindow = Array.from({ length: fullWindows }, (_, w) => pacedStarts.filter((s) => s >= t0 + w * windowMs && s < t0 + (w + 1) * windowMs).length);

    const draws = floorOverDraws(DRAWS);
    return [
      '## LLM analysis (fake OpenAI-compatible server on 127.0.0.1, in a process of its own)',
      '',
      `500-page PDF, 20-page chunks (25 map calls + 1 reduce, summarize mode), model latency 2 s ± 0.5 s (seeded), concurrency ${CONCURRENCY}, embedded mode, 2 parsing threads.`,
      '',
      '| measure | cold engine | warm engine |',
      '|---|---|---|',
      `| wall, submit → job end | ${cold.measured.wallS.toFixed(2)} s | ${warm.measured.wallS.toFixed(2)} s |`,
      `| ideal (sum of map latencies ÷ ${CONCURRENCY} + reduce) | ${cold.ideal.toFixed(2)} s | ${warm.ideal.toFixed(2)} s |`,
      `| wall ÷ ideal | ${(cold.measured.wallS / cold.ideal).toFixed(3)} | **${(warm.measured.wallS / warm.ideal).toFixed(3)}** |`,
      `| list-scheduling floor (25 calls on ${CONCURRENCY} slots + reduce) | ${cold.listFloor.toFixed(2)} s | ${warm.listFloor.toFixed(2)} s |`,
      `| floor ÷ ideal (what FIFO dispatch to free slots cannot beat) | ${(cold.listFloor / cold.ideal).toFixed(3)} | ${(warm.listFloor / warm.ideal).toFixed(3)} |`,
      `| floor ÷ ideal over ${DRAWS.toLocaleString('en')} draws of the same latencies | median ${draws.median.toFixed(3)} (5th–95th percentile ${draws.p5.toFixed(3)}–${draws.p95.toFixed(3)}); ≤ 1.1 in ${(draws.withinGoal * 100).toFixed(0)}% of draws | |`,
      `| wall ÷ list-scheduling floor | ${(cold.measured.wallS / cold.listFloor).toFixed(3)} | ${(warm.measured.wallS / warm.listFloor).toFixed(3)} |`,
      `| submit → first model call | ${cold.beforeFirstS.toFixed(2)} s | ${warm.beforeFirstS.toFixed(2)} s |`,
      `| last map answer → reduce call | ${cold.beforeReduceS.toFixed(2)} s | ${warm.beforeReduceS.toFixed(2)} s |`,
      `| reduce answer → job end | ${cold.afterReduceS.toFixed(2)} s | ${warm.afterReduceS.toFixed(2)} s |`,
      `| model calls, first run | ${cold.measured.calls} | ${warm.measured.calls} |`,
      `| model calls, re-run of the first book (new job) | ${again.calls} (wall ${again.wallS.toFixed(2)} s: storing, inspecting and reading the book, no model time) | |`,
      `| load average at the end (1 min) | ${loadavg()[0]?.toFixed(2)} on ${availableParallelism()} cores | |`,
      '',
      `Pacing: 150 one-page chunks, limit ${limit} requests per ${windowMs / 1000} s window, concurrency ${CONCURRENCY}; time compressed 10× (the window is a minute ÷ 10, the latency 200 ms ± 50 ms) so that, as with 2 s calls under 60 per minute, the limit and not the concurrency decides.`,
      '',
      '| measure | value |',
      '|---|---|',
      `| most calls started in any ${windowMs / 1000} s window | ${worst} (limit ${limit}) |`,
      `| calls per full window while work remained | ${perWindow.join(', ')} (≥ ${0.9 * limit} wanted) |`,
      `| model calls | ${third.calls} |`,
    ].join('\n');
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) process.stdout.write(`${await run()}\n`);

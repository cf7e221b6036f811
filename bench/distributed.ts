// Distributed-mode scaling benchmark: one big PDF through `ream serve --no-work` and 1, 2 and 4
// `ream worker` processes sharing Redis, PostgreSQL and an s3rver bucket (test/support/cluster.ts),
// wall time against the ideal. Each worker runs one task at a time on one parsing thread, so the
// ideal is plain arithmetic. `slow` waits per page (a remote model call: should scale with
// workers), `busy` spins per page (local CPU: bounded by the cores). `node bench/distributed.ts`
// prints the section on its own.
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReamClient } from '../src/client/index.ts';
import { startCluster, type Cluster } from '../test/support/cluster.ts';
import { hasCorpus, readManifest } from '../test/support/env.ts';
import { numberedPages, writePdf } from '../test/support/make-pdf.ts';
import { postgresUnavailable, redisUnavailable } from '../test/support/services.ts';

const CORPUS_FILE = 'lang-french__profcollege__ProfCollege-doc.pdf';
/** Pages of the generated stand-in when the shared corpus is missing. */
const GENERATED_PAGES = 500;
const MS_PER_PAGE = 20;
/** ~50 chunks: enough to spread over 4 workers, few enough that per-task overhead stays small. */
const CHUNK_PAGES = 10;
const WORKER_COUNTS = [1, 2, 4] as const;
/** One task at a time on one parsing thread per worker: N workers are N lanes, nothing more. */
const WORKER_ARGS = ['--concurrency', '1', '--threads', '1'] as const;
const JOB_TIMEOUT_MS = 120_000;
/** Workers report `tasksDone` with their heartbeat (every 2 s); wait at most this for the last beat. */
const HEARTBEAT_WAIT_MS = 8_000;
/** Runs per figure; the best is kept (on a shared machine, noise only ever adds time). */
const REPEATS = 2;

type Mode = 'extract' | 'slow' | 'busy';

interface Input {
  path: string;
  pages: number;
  label: string;
}

interface Run {
  wallMs: number;
  chunks: number;
}

interface WorkerTally {
  pid: number;
  tasksDone: number;
}

async function bigPdf(dir: string): Promise<Input> {
  if (hasCorpus()) {
    const entry = (await readManifest()).find((e) => e.name === CORPUS_FILE);
    if (entry?.pages != null) return { path: entry.path, pages: entry.pages, label: `\`${CORPUS_FILE}\` from the shared corpus` };
  }
  const path = join(dir, 'generated.pdf');
  await writePdf(path, { pages: numberedPages('bench', GENERATED_PAGES) });
  return { path, pages: GENERATED_PAGES, label: 'a generated PDF (the shared corpus is missing)' };
}

/** Pipeline and options per mode: `extract` is `slow` at 0 ms per page, i.e. the same job minus the analyzer's wait. */
function jobRequest(mode: Mode): { pipeline: string; options: { chunkPages: number; msPerPage: number } } {
  return { pipeline: mode === 'busy' ? 'busy' : 'slow', options: { chunkPages: CHUNK_PAGES, msPerPage: mode === 'extract' ? 0 : MS_PER_PAGE } };
}

/** Submit (the document is stored already, so no upload is timed) to the job's end, by its events. */
async function timeJob(client: ReamClient, documentId: string, mode: Mode): Promise<Run> {
  const started = performance.now();
  const job = await client.submit({ documents: [documentId], ...jobRequest(mode) });
  const done = await client.wait(job.id, { signal: AbortSignal.timeout(JOB_TIMEOUT_MS) });
  const wallMs = performance.now() - started;
  if (done.status !== 'succeeded') throw new Error(`bench distributed: ${mode} job ${job.id} ended ${done.status}: ${JSON.stringify(done.error)}`);
  return { wallMs, chunks: done.counts.chunks.succeeded };
}

async function workerTallies(cluster: Cluster): Promise<WorkerTally[]> {
  const response = await fetch(`${cluster.server.url}/v1/workers`);
  const { items } = (await response.json()) as { items: WorkerTally[] };
  return items.map(({ pid, tasksDone }) => ({ pid, tasksDone })).sort((a, b) => a.pid - b.pid);
}

/**
 * Each worker's `tasksDone` once the heartbeats add up to `expected` (every task of every job so
 * far): a worker reports it only with its next heartbeat, up to 2 s after the job ended.
 */
async function settledTallies(cluster: Cluster, expected: number): Promise<WorkerTally[]> {
  const deadline = Date.now() + HEARTBEAT_WAIT_MS;
  for (;;) {
    const tallies = await workerTallies(cluster);
    if (tallies.reduce((sum, w) => sum + w.tasksDone, 0) >= expected) return tallies;
    if (Date.now() > deadline) throw new Error(`bench distributed: workers reported fewer than ${expected} tasks within ${HEARTBEAT_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const difference = (after: readonly WorkerTally[], before: readonly WorkerTally[]): WorkerTally[] =>
  after.map(({ pid, tasksDone }) => ({ pid, tasksDone: tasksDone - (before.find((b) => b.pid === pid)?.tasksDone ?? 0) }));

/** Wall time per mode at one cluster size: the best of REPEATS runs, the modes rotated in each repeat. */
type Walls = Record<Mode, number>;

interface Figures {
  workers: number;
  walls: Walls;
}

const MODES: readonly Mode[] = ['extract', 'slow', 'busy'];

/** Runs the jobs of one benchmark and keeps the count of tasks they made, for the workers' tallies. */
class Bench {
  readonly #cluster: Cluster;
  readonly #client: ReamClient;
  readonly #documentId: string;
  #tasks = 0;
  chunks = 0;

  constructor(cluster: Cluster, documentId: string) {
    this.#cluster = cluster;
    this.#client = new ReamClient({ baseUrl: cluster.server.url });
    this.#documentId = documentId;
  }

  async job(mode: Mode): Promise<number> {
    const run = await timeJob(this.#client, this.#documentId, mode);
    this.chunks = run.chunks;
    this.#tasks += run.chunks + 2; // inspect + every chunk + merge
    return run.wallMs;
  }

  async walls(): Promise<Walls> {
    const walls: Walls = { extract: Infinity, slow: Infinity, busy: Infinity };
    for (let r = 0; r < REPEATS; r++) {
      for (let k = 0; k < MODES.length; k++) {
        const mode = MODES[(r + k) % MODES.length] ?? 'extract';
        walls[mode] = Math.min(walls[mode], await this.job(mode));
      }
    }
    return walls;
  }

  /** Tasks each worker did in one `slow` job. */
  async spread(): Promise<WorkerTally[]> {
    const before = await settledTallies(this.#cluster, this.#tasks);
    await this.job('slow');
    return difference(await settledTallies(this.#cluster, this.#tasks), before);
  }
}

export async function run(): Promise<string> {
  const title = '## Distributed mode: one big PDF over 1, 2 and 4 worker processes';
  const missing = (await redisUnavailable()) ?? (await postgresUnavailable());
  if (missing !== undefined) return `${title}\n\nSkipped: ${missing} is not available.\n`;
  const dir = await mkdtemp(join(tmpdir(), 'ream-bench-distributed-'));
  const loadBefore = loadavg()[0] ?? NaN;
  // One cluster that grows 1 → 2 → 4 workers: server, database and bucket stay the same for every figure.
  const cluster = await startCluster({ workers: 1, workerArgs: WORKER_ARGS });
  try {
    const input = await bigPdf(dir);
    const [stored] = await new ReamClient({ baseUrl: cluster.server.url }).storeDocuments([input.path]);
    if (stored === undefined) throw new Error('bench distributed: the PDF was not stored');
    const bench = new Bench(cluster, stored.id);
    const figures: Figures[] = [];
    let spread: WorkerTally[] = [];
    for (const workers of WORKER_COUNTS) {
      while (cluster.workers.length < workers) await cluster.startWorker();
      process.stderr.write(`bench distributed: ${workers} worker(s)…\n`);
      figures.push({ workers, walls: await bench.walls() });
      if (workers === WORKER_COUNTS[WORKER_COUNTS.length - 1]) spread = await bench.spread();
    }
    const load = `${loadBefore.toFixed(1)} before the runs, ${(loadavg()[0] ?? NaN).toFixed(1)} after them`;
    return report({ title, input, chunks: bench.chunks, figures, spread, load });
  } catch (error) {
    process.stderr.write(`${cluster.output()}\n`);
    throw error;
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const seconds = (ms: number): string => (ms / 1000).toFixed(2);
const ratio = (value: number): string => `${value.toFixed(2)}×`;
const percent = (value: number): string => `${(value * 100).toFixed(0)}%`;

interface Measured {
  title: string;
  input: Input;
  chunks: number;
  figures: readonly Figures[];
  spread: readonly WorkerTally[];
  /** The 1-minute load average around the runs: what else the machine was doing. */
  load: string;
}

function report({ title, input, chunks, figures, spread, load }: Measured): string {
  const cores = availableParallelism();
  const analyzerMs = input.pages * MS_PER_PAGE;
  const oneWorker = figures[0]?.walls;
  const extractMs = oneWorker?.extract ?? NaN;
  /** Everything in the 1-worker job split evenly over N lanes; for CPU work, also no faster than the cores run the analyzer. */
  const ideal = (mode: 'slow' | 'busy', workers: number): number =>
    Math.max((extractMs + analyzerMs) / workers, mode === 'busy' ? analyzerMs / Math.min(workers, cores) : 0);
  const overIdeal = figures.some(({ workers, walls }) => walls.slow < ideal('slow', workers) || walls.busy < ideal('busy', workers));
  const table = (mode: 'slow' | 'busy'): string[] => [
    '| workers | extraction only (s) | ideal (s) | wall (s) | speedup vs 1 worker | efficiency (ideal ÷ wall) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...figures.map(({ workers, walls }) => {
      const best = ideal(mode, workers);
      return `| ${workers} | ${seconds(walls.extract)} | ${seconds(best)} | ${seconds(walls[mode])} | ${ratio((oneWorker?.[mode] ?? NaN) / walls[mode])} | ${percent(best / walls[mode])} |`;
    }),
  ];
  const totalTasks = spread.reduce((sum, w) => sum + w.tasksDone, 0);
  return [
    title,
    '',
    `${input.label}, ${input.pages} pages, in chunks of ${CHUNK_PAGES} pages (${chunks} chunks), processed by one \`ream serve --no-work\` ` +
      `and N \`ream worker ${WORKER_ARGS.join(' ')}\` processes sharing Redis (BullMQ), PostgreSQL and an S3 bucket (s3rver), ` +
      'all on this machine. Wall time runs from submitting the job (the PDF is stored beforehand) to the end of `ReamClient.wait`; ' +
      `best of ${REPEATS} runs per figure, the modes rotated between runs. The cluster grows from 1 to 2 to 4 workers; a new worker's ` +
      'first job (fetching its local copy of the PDF, loading its parser) is the first `extract` run, so the second one is warm.',
    '',
    `**Ideal**: E = the same job with a 0 ms analyzer on 1 worker (extraction only, measured: ${seconds(extractMs)} s), ` +
      `A = ${input.pages} pages × ${MS_PER_PAGE} ms = ${seconds(analyzerMs)} s. Chunks carry both, so N workers at best take (E + A) ÷ N; ` +
      `CPU work (\`busy\`) also takes at least A ÷ min(N, ${cores} cores). The bound ignores what cannot spread (inspecting the file ` +
      `before its chunks, merging after them) and the last round of ${chunks} chunks of ~${seconds(CHUNK_PAGES * MS_PER_PAGE)} s, ` +
      'where some workers have nothing left to take.',
    '',
    `**Caveat: the machine has ${cores} cores**, shared by the workers, the server, Redis, PostgreSQL, s3rver and the bench itself ` +
      `(and by whatever else runs on it: 1-minute load average ${load}). ` +
      'Waiting work (`slow`) spreads over more workers than cores; CPU work (`busy`) cannot go faster than the cores allow.' +
      (overIdeal
        ? ' An efficiency above 100% means E, measured in runs of its own, came out slower than the extraction inside that job: ' +
          'the run-to-run noise here is at least that large.'
        : ''),
    '',
    `### \`slow\`: ${MS_PER_PAGE} ms per page of waiting (a remote model call)`,
    '',
    ...table('slow'),
    '',
    `### \`busy\`: ${MS_PER_PAGE} ms per page of CPU spinning (local CPU work)`,
    '',
    ...table('busy'),
    '',
    `### Tasks per worker (one more \`slow\` job on ${spread.length} workers)`,
    '',
    '| worker pid | tasks done |',
    '| ---: | ---: |',
    ...spread.map((w) => `| ${w.pid} | ${w.tasksDone} |`),
    '',
    `${totalTasks} tasks in all (one inspect, ${chunks} chunks, one merge), from \`GET /v1/workers\` (\`tasksDone\`, sent with each heartbeat) before and after the job.`,
  ].join('\n');
}

if (import.meta.main) {
  process.stdout.write(`${await run()}\n`);
}

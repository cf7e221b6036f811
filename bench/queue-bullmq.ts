// Distributed queue benchmark: no-op tasks through BullmqQueue (claim → complete, N async
// claimers) against raw BullMQ (a Worker with a no-op processor at the same concurrency, with and
// without the adapter's job options), on the same Redis, side by side in one run.
// DESIGN.md §11: the adapter within 20% of raw BullMQ.
// `node bench/queue-bullmq.ts` prints the section on its own; `--claimer` is the child mode of
// the several-process run.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { NewTask } from '../src/queue/port.ts';
import { BullmqQueue } from '../src/queue/bullmq-queue.ts';
import { toBullmqPriority } from '../src/queue/bullmq-priority.ts';

const URL_ = process.env.REAM_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TASKS = 20_000;
const BATCH = 1_000;
const CONCURRENCIES = [16, 64];
/** Rounds per figure, interleaved; the median is reported, so one noisy run does not decide. */
const ROUNDS = 3;
const PROCESSES = 4;
const TARGET_RATIO = 0.8;
const LEASE_MS = 30_000;
/** What BullmqQueue keeps of finished jobs by default (24 h, at most 100,000), in BullMQ's terms. */
const KEEP = { age: 24 * 60 * 60, count: 100_000 };

function prefixFor(what: string): string {
  return `ream_bench_${what}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(URL_);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

const tasks: NewTask[] = Array.from({ length: TASKS }, (_, i) => ({ id: `t${i}`, jobId: `job${i % 10}`, kind: 'noop', payload: { i } }));

interface Figures {
  enqueuePerSecond: number;
  tasksPerSecond: number;
}

/** Claims and completes until the queue is empty; returns how many tasks it ran. */
async function claimUntilEmpty(queue: BullmqQueue, concurrency: number): Promise<number> {
  let done = 0;
  const claimer = async (workerId: string): Promise<void> => {
    for (;;) {
      const task = await queue.claim({ workerId, leaseMs: LEASE_MS });
      if (!task) return;
      if (!(await queue.complete(task))) throw new Error(`lost the lease of ${task.id}`);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => claimer(`w${i}`)));
  return done;
}

/** Enqueues every task in batches; returns tasks/s. */
async function fillAdapter(queue: BullmqQueue): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < TASKS; i += BATCH) await queue.enqueue(tasks.slice(i, i + BATCH));
  return TASKS / ((performance.now() - started) / 1_000);
}

async function adapterOnce(concurrency: number): Promise<Figures> {
  const prefix = prefixFor('adapter');
  const queue = await BullmqQueue.open({ url: URL_, prefix });
  try {
    const enqueuePerSecond = await fillAdapter(queue);
    const started = performance.now();
    const done = await claimUntilEmpty(queue, concurrency);
    const seconds = (performance.now() - started) / 1_000;
    if (done !== TASKS) throw new Error(`ran ${done} of ${TASKS} tasks`);
    return { enqueuePerSecond, tasksPerSecond: TASKS / seconds };
  } finally {
    await queue.close();
    await deletePrefix(prefix);
  }
}

/**
 * Raw BullMQ: a Worker with a no-op processor. `prioritized` gives each job the options the
 * adapter gives a task of priority 0 (a BullMQ priority, one attempt, the same retention); without
 * it the jobs take BullMQ's cheaper un-prioritized path (its wait list), as a plain user's would.
 */
async function rawOnce(concurrency: number, prioritized: boolean): Promise<Figures> {
  const prefix = prefixFor('raw');
  const connection = { url: URL_ };
  const queue = new Queue('noop', { connection, prefix });
  const opts = prioritized ? { priority: toBullmqPriority(0), attempts: 1, removeOnComplete: KEEP, removeOnFail: KEEP } : { removeOnComplete: KEEP };
  let worker: Worker | undefined;
  try {
    let started = performance.now();
    for (let i = 0; i < TASKS; i += BATCH) {
      await queue.addBulk(tasks.slice(i, i + BATCH).map((t) => ({ name: t.kind, data: { taskId: t.id, jobId: t.jobId, payload: t.payload }, opts: { ...opts, jobId: t.id } })));
    }
    const enqueuePerSecond = TASKS / ((performance.now() - started) / 1_000);
    let done = 0;
    const finished = Promise.withResolvers<void>();
    started = performance.now();
    worker = new Worker('noop', () => Promise.resolve(), { connection: { ...connection, maxRetriesPerRequest: null }, prefix, concurrency, lockDuration: LEASE_MS });
    worker.on('completed', () => {
      done += 1;
      if (done === TASKS) finished.resolve();
    });
    worker.on('error', (error) => finished.reject(error));
    await finished.promise;
    return { enqueuePerSecond, tasksPerSecond: TASKS / ((performance.now() - started) / 1_000) };
  } finally {
    await worker?.close();
    await queue.close();
    await deletePrefix(prefix);
  }
}

/** PROCESSES child processes, each with `concurrency` claimers, on one prefix. */
async function processesOnce(concurrency: number): Promise<number> {
  const prefix = prefixFor('procs');
  const queue = await BullmqQueue.open({ url: URL_, prefix });
  try {
    await fillAdapter(queue);
    const self = fileURLToPath(import.meta.url);
    const children = Array.from({ length: PROCESSES }, () => spawn(process.execPath, [self, '--claimer', prefix, String(concurrency)], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const lines = children.map((child) => createInterface({ input: child.stdout })[Symbol.asyncIterator]());
    for (const line of lines) await line.next(); // 'ready': connected
    const started = performance.now();
    for (const child of children) child.stdin.end('go\n');
    const counts = await Promise.all(lines.map(async (line) => Number((await line.next()).value)));
    const seconds = (performance.now() - started) / 1_000;
    await Promise.all(children.map((child) => (child.exitCode === null ? once(child, 'exit') : Promise.resolve())));
    const done = counts.reduce((a, b) => a + b, 0);
    if (done !== TASKS) throw new Error(`ran ${done} of ${TASKS} tasks`);
    return TASKS / seconds;
  } finally {
    await queue.close();
    await deletePrefix(prefix);
  }
}

async function claimerProcess(prefix: string, concurrency: number): Promise<void> {
  const queue = await BullmqQueue.open({ url: URL_, prefix });
  process.stdout.write('ready\n');
  await once(process.stdin, 'data');
  const done = await claimUntilEmpty(queue, concurrency);
  process.stdout.write(`${done}\n`);
  await queue.close();
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** Raw BullMQ, raw BullMQ with the adapter's job options, the adapter: in this order in the table. */
const CONTENDERS: ((concurrency: number) => Promise<Figures>)[] = [(c) => rawOnce(c, false), (c) => rawOnce(c, true), adapterOnce];

/** Every contender's runs at one concurrency, rounds interleaved so drift hits all alike. */
async function measure(concurrency: number): Promise<Figures[][]> {
  const samples: Figures[][] = CONTENDERS.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, once] of CONTENDERS.entries()) samples[i]?.push(await once(concurrency));
  }
  return samples;
}

/** The `## Queue: BullMQ adapter vs raw BullMQ` section of docs/benchmarks.md. */
export async function run(): Promise<string> {
  for (const once of CONTENDERS) await once(16); // warm-up: JIT, Lua script loading
  const rows: string[] = [];
  const enqueueRuns: Figures[][] = CONTENDERS.map(() => []);
  for (const concurrency of CONCURRENCIES) {
    const samples = await measure(concurrency);
    samples.forEach((runs, i) => enqueueRuns[i]?.push(...runs));
    const [raw, rawPrioritized, adapter] = samples.map((runs) => median(runs.map((r) => r.tasksPerSecond))) as [number, number, number];
    const ratio = adapter / raw;
    rows.push(
      `| ${concurrency} | ${fmt(raw)} | ${fmt(rawPrioritized)} | ${fmt(adapter)} | ${ratio.toFixed(2)}× | ` +
        `${(adapter / rawPrioritized).toFixed(2)}× | ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'} |`,
    );
  }
  const [enqueueRaw, enqueueRawPrioritized, enqueueAdapter] = enqueueRuns.map((runs) => fmt(median(runs.map((r) => r.enqueuePerSecond))));
  const several = await processesOnce(16);
  return [
    '## Queue: BullMQ adapter vs raw BullMQ',
    '',
    `${fmt(TASKS)} no-op tasks per run on one Redis (${URL_.replace(/\/\/.*@/, '//')}); each figure is the median of ${ROUNDS} interleaved runs. ` +
      'Raw BullMQ: a `Worker` with a no-op processor at the given concurrency (it completes a job and fetches the next in one script call), ' +
      'its jobs un-prioritized (BullMQ\'s cheaper wait list, as a plain user\'s), and again with the options the adapter gives a task of ' +
      'priority 0 (a BullMQ priority: the adapter needs one on every task to keep "higher priority first", since BullMQ serves ' +
      'un-prioritized jobs before all others; one attempt; same retention). Adapter: BullmqQueue, that many async claimers in one ' +
      `process doing \`claim\` → \`complete\` (lease ${LEASE_MS / 1_000} s), which fetches the next task ahead like the raw Worker does. ` +
      'Target (DESIGN.md §11): within 20% of raw BullMQ.',
    '',
    '| concurrency | raw BullMQ (tasks/s) | raw, prioritized (tasks/s) | BullmqQueue (tasks/s) | vs raw | vs raw, prioritized | ≥ 0.8× raw |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Enqueue in batches of ${fmt(BATCH)}, median of all runs above: raw ${enqueueRaw ?? '?'} tasks/s, raw prioritized ` +
      `${enqueueRawPrioritized ?? '?'} tasks/s, BullmqQueue ${enqueueAdapter ?? '?'} tasks/s (it also checks and records every task id, ` +
      "so dedupe by id outlives BullMQ's retention: two more round trips per batch).",
    '',
    `Several processes: ${PROCESSES} processes × 16 claimers on one prefix: ${fmt(several)} tasks/s.`,
  ].join('\n');
}

if (process.argv[2] === '--claimer') {
  await claimerProcess(process.argv[3] ?? '', Number(process.argv[4] ?? 16));
} else if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await run());
}

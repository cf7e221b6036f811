// Distributed queue benchmark: no-op tasks through BullmqQueue (claim → complete, N async
// claimers) against raw BullMQ (a Worker with a no-op processor at the same concurrency), on the
// same Redis, side by side in one run. DESIGN.md §11: the adapter within 20% of raw BullMQ.
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

const URL_ = process.env.REAM_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TASKS = 20_000;
const BATCH = 1_000;
const CONCURRENCIES = [16, 64];
const PROCESSES = 4;
const TARGET_RATIO = 0.8;
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

/** Claims and completes until the queue is empty; returns how many tasks it ran. */
async function claimUntilEmpty(queue: BullmqQueue, concurrency: number): Promise<number> {
  let done = 0;
  const claimer = async (workerId: string): Promise<void> => {
    for (;;) {
      const task = await queue.claim({ workerId, leaseMs: 30_000 });
      if (!task) return;
      if (!(await queue.complete(task))) throw new Error(`lost the lease of ${task.id}`);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => claimer(`w${i}`)));
  return done;
}

async function fillAdapter(queue: BullmqQueue): Promise<void> {
  for (let i = 0; i < TASKS; i += BATCH) await queue.enqueue(tasks.slice(i, i + BATCH));
}

async function adapterOnce(concurrency: number): Promise<number> {
  const prefix = prefixFor('adapter');
  const queue = await BullmqQueue.open({ url: URL_, prefix });
  try {
    await fillAdapter(queue);
    const started = performance.now();
    const done = await claimUntilEmpty(queue, concurrency);
    const seconds = (performance.now() - started) / 1_000;
    if (done !== TASKS) throw new Error(`ran ${done} of ${TASKS} tasks`);
    return TASKS / seconds;
  } finally {
    await queue.close();
    await deletePrefix(prefix);
  }
}

async function rawOnce(concurrency: number): Promise<number> {
  const prefix = prefixFor('raw');
  const connection = { url: URL_ };
  const queue = new Queue('noop', { connection, prefix });
  let worker: Worker | undefined;
  try {
    for (let i = 0; i < TASKS; i += BATCH) {
      await queue.addBulk(tasks.slice(i, i + BATCH).map((t) => ({ name: t.kind, data: { payload: t.payload }, opts: { jobId: t.id, removeOnComplete: KEEP } })));
    }
    let done = 0;
    const finished = Promise.withResolvers<void>();
    const started = performance.now();
    worker = new Worker('noop', () => Promise.resolve(), { connection: { ...connection, maxRetriesPerRequest: null }, prefix, concurrency });
    worker.on('completed', () => {
      done += 1;
      if (done === TASKS) finished.resolve();
    });
    worker.on('error', (error) => finished.reject(error));
    await finished.promise;
    return TASKS / ((performance.now() - started) / 1_000);
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

/** The `## Queue: BullMQ adapter vs raw BullMQ` section of docs/benchmarks.md. */
export async function run(): Promise<string> {
  await adapterOnce(16); // warm-up: JIT, Lua script loading
  await rawOnce(16);
  const rows: string[] = [];
  for (const concurrency of CONCURRENCIES) {
    // Interleaved, so drift on the shared machine hits both sides alike.
    const raw = await rawOnce(concurrency);
    const adapter = await adapterOnce(concurrency);
    const ratio = adapter / raw;
    rows.push(`| ${concurrency} | ${fmt(raw)} | ${fmt(adapter)} | ${ratio.toFixed(2)}× | ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'} |`);
  }
  const several = await processesOnce(16);
  return [
    '## Queue: BullMQ adapter vs raw BullMQ',
    '',
    `${fmt(TASKS)} no-op tasks per run on one Redis (${URL_.replace(/\/\/.*@/, '//')}). Raw BullMQ: a \`Worker\` with a no-op processor at the given ` +
      `concurrency (it completes and fetches the next job in one script call). Adapter: BullmqQueue, that many async claimers in one process ` +
      `doing \`claim\` → \`complete\`. Finished jobs kept alike (24 h, at most 100,000). Target (DESIGN.md §11): within 20% of raw BullMQ.`,
    '',
    '| concurrency | raw BullMQ (tasks/s) | BullmqQueue (tasks/s) | ratio | ≥ 0.8× |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `Several processes: ${PROCESSES} processes × 16 claimers on one prefix: ${fmt(several)} tasks/s.`,
  ].join('\n');
}

if (process.argv[2] === '--claimer') {
  await claimerProcess(process.argv[3] ?? '', Number(process.argv[4] ?? 16));
} else if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await run());
}

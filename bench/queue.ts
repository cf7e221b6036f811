// Embedded queue benchmark: no-op tasks through SqliteQueue on a WAL file, so what is measured is
// the queue itself (claim, lease, complete), DESIGN.md §11 asks for ≥ 5,000 tasks/s.
// `node bench/queue.ts` prints the section on its own.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewTask } from '../src/queue/port.ts';
import { SqliteQueue } from '../src/queue/sqlite-queue.ts';
import { openSqliteDatabase } from '../src/sql/sqlite-database.ts';

const TASKS = 20_000;
const BATCH = 1_000;
const CONCURRENCY = 16;
const REPEATS = 3;
const TARGET = 5_000;

interface Figures {
  enqueuePerSecond: number;
  tasksPerSecond: number;
}

async function once(): Promise<Figures> {
  const dir = await mkdtemp(join(tmpdir(), 'ream-bench-queue-'));
  const database = openSqliteDatabase(join(dir, 'ream.db'));
  try {
    const queue = await SqliteQueue.open(database);
    const tasks: NewTask[] = Array.from({ length: TASKS }, (_, i) => ({ id: `t${i}`, jobId: `job${i % 10}`, kind: 'noop', payload: { i } }));
    let started = performance.now();
    for (let i = 0; i < TASKS; i += BATCH) await queue.enqueue(tasks.slice(i, i + BATCH));
    const enqueueSeconds = (performance.now() - started) / 1_000;

    let done = 0;
    const worker = async (workerId: string): Promise<void> => {
      for (;;) {
        const task = await queue.claim({ workerId, leaseMs: 30_000 });
        if (!task) return;
        if (!(await queue.complete(task))) throw new Error(`lost the lease of ${task.id}`);
        done += 1;
      }
    };
    started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => worker(`w${i}`)));
    const runSeconds = (performance.now() - started) / 1_000;
    if (done !== TASKS) throw new Error(`ran ${done} of ${TASKS} tasks`);
    await queue.close();
    return { enqueuePerSecond: TASKS / enqueueSeconds, tasksPerSecond: TASKS / runSeconds };
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The `## Embedded queue` section of docs/benchmarks.md. */
export async function run(): Promise<string> {
  await once(); // warm-up: JIT and statement cache
  const runs: Figures[] = [];
  for (let i = 0; i < REPEATS; i++) runs.push(await once());
  const tasksPerSecond = median(runs.map((r) => r.tasksPerSecond));
  const enqueuePerSecond = median(runs.map((r) => r.enqueuePerSecond));
  return [
    '## Embedded queue',
    '',
    `SqliteQueue on a WAL file (\`synchronous = NORMAL\`): ${fmt(TASKS)} no-op tasks enqueued in batches of ${fmt(BATCH)}, ` +
      `then claimed and completed by ${CONCURRENCY} async workers in one process. Median of ${REPEATS} runs after a warm-up.`,
    '',
    '| figure | value |',
    '|---|---|',
    `| enqueue | ${fmt(enqueuePerSecond)} tasks/s |`,
    `| claim + complete | ${fmt(tasksPerSecond)} tasks/s |`,
    `| target (DESIGN.md §11) | ≥ ${fmt(TARGET)} tasks/s: ${tasksPerSecond >= TARGET ? 'met' : 'NOT met'} |`,
  ].join('\n');
}

if (import.meta.main) {
  process.stdout.write(`${await run()}\n`);
}

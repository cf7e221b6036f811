import type { ReamEvent } from '../events/types.ts';
import type { QueueBacklog, Ream } from '../runtime/create-ream.ts';
import type { MetricsSample } from '../store/port.ts';

export interface MetricsHistoryOptions {
  /** Length of one sample, in ms. Default 10,000 (10 s). */
  intervalMs?: number;
  /** Samples the store keeps (the ring's size). Default 8,640: a day of 10 s samples. */
  capacity?: number;
}

export const DEFAULT_HISTORY = { intervalMs: 10_000, capacity: 8_640 } as const;

type Counted = Pick<MetricsSample, 'pages' | 'tasks' | 'tasksFailed' | 'documents' | 'documentsFailed' | 'failures'>;

function empty(): Counted {
  return { pages: 0, tasks: 0, tasksFailed: 0, documents: 0, documentsFailed: 0, failures: {} };
}

function count(into: Counted, event: ReamEvent): void {
  const failed = (): void => {
    const code = event.error?.code ?? 'internal';
    into.failures[code] = (into.failures[code] ?? 0) + 1;
  };
  switch (event.type) {
    case 'chunk.completed':
      into.tasks++;
      if (event.chunk) into.pages += Math.max(0, event.chunk.to - event.chunk.from);
      break;
    case 'chunk.failed':
      into.tasks++;
      into.tasksFailed++;
      failed();
      break;
    case 'document.completed':
      into.documents++;
      break;
    case 'document.failed':
      into.documents++;
      into.documentsFailed++;
      failed();
      break;
    default:
      break;
  }
}

/** When the longest-waiting claimable task of any priority became due; null when none waits. */
function oldestWaiting(backlog: readonly QueueBacklog[]): number | null {
  let oldest: number | null = null;
  for (const level of backlog) if (level.oldestQueuedAt !== null && (oldest === null || level.oldestQueuedAt < oldest)) oldest = level.oldestQueuedAt;
  return oldest;
}

async function tokensSpent(ream: Ream): Promise<number> {
  let total = 0;
  for (const row of await ream.usage()) total += row.promptTokens + row.completionTokens;
  return total;
}

/**
 * Samples the deployment into the store's metrics history every `intervalMs`, on the interval
 * grid (`at` a multiple of it), so that every server of a deployment samples the same intervals
 * and the first to store one wins. Pages, tasks and failures are counted from the events of
 * every process (the event bus delivers them all); the queue, the oldest waiting task (any
 * priority: a started job's queued chunks count too) and the tokens spent (from the usage
 * ledger) are read at each interval's end. The interval the sampler starts in is partial and
 * not stored. Returns the function that stops it.
 */
export function startMetricsSampler(ream: Ream, options: MetricsHistoryOptions, onError: (error: unknown) => void): () => void {
  const intervalMs = options.intervalMs ?? DEFAULT_HISTORY.intervalMs;
  const capacity = options.capacity ?? DEFAULT_HISTORY.capacity;
  let counted = empty();
  let partial = true;
  let tokensBefore: Promise<number> = tokensSpent(ream).catch(() => 0);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const off = ream.subscribe({}, (event) => count(counted, event));

  const sample = async (at: number): Promise<void> => {
    const done = counted;
    counted = empty();
    const [tasks, backlog, tokens, before] = await Promise.all([ream.taskCounts(), ream.queueBacklog(), tokensSpent(ream), tokensBefore]);
    const oldest = oldestWaiting(backlog);
    tokensBefore = Promise.resolve(tokens);
    if (partial) {
      partial = false;
      return;
    }
    const end = at + intervalMs;
    await ream.putMetricsSample({
      at, intervalMs, ...done,
      queued: tasks.queued,
      running: tasks.leased,
      oldestQueuedMs: oldest === null ? null : Math.max(0, end - oldest),
      tokens: Math.max(0, tokens - before),
    }, capacity);
  };

  const schedule = (): void => {
    if (stopped) return;
    const now = Date.now();
    const next = Math.floor(now / intervalMs) * intervalMs + intervalMs;
    timer = setTimeout(() => {
      void sample(next - intervalMs).catch(onError).finally(schedule);
    }, next - now);
    timer.unref();
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
    off();
  };
}

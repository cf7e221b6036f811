import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { ReamError, fromErrorInfo, toReamError } from '../errors.ts';
import type { EventFilter, EventListener } from '../events/port.ts';
import { TERMINAL_EVENT_TYPES } from '../events/types.ts';
import { PipelineRegistry } from '../pipeline/registry.ts';
import type { DocumentOutput, PipelineFactory } from '../pipeline/types.ts';
import type { SearchHit } from '../search/port.ts';
import { DEFAULT_TENANT, TERMINAL_JOB_STATUSES, type JobCounts, type JobRecord } from '../store/port.ts';
import type { Adapters } from './adapters.ts';
import { openEmbeddedAdapters } from './embedded.ts';
import { lockDataDir } from './data-dir-lock.ts';
import type { DistributedSettings } from './deployment.ts';
import type { IntakeLimits } from './intake.ts';
import type { JobLimits } from './job-limits.ts';
import { DocumentTasks } from './document-tasks.ts';
import { Engine, type AddedDocument, type CreateJobInput, type DocumentToAdd, type FileInput } from './engine.ts';
import { DEFAULT_MAX_MEMORY_MB } from './thread-pool.ts';
import { WebhookAddressGuard } from './webhook-address.ts';
import { WEBHOOK_DEFAULTS, type WebhookSettings } from './webhook-delivery.ts';
import { TASK_KINDS } from './task-kinds.ts';
import { Worker } from './worker.ts';

export interface ReamOptions {
  /** Folder for the database, blobs and lock (created if missing). Default `.ream` in the working directory. */
  dataDir?: string;
  /** Worker threads for CPU work (parsing). Default: the number of cores. */
  threads?: number;
  /** Tasks in flight at once in this process. Default: 2 × threads. */
  concurrency?: number;
  /** Longest a CPU task (one chunk, one inspection) may run before its thread is killed, in ms. Default 120,000. */
  taskTimeoutMs?: number;
  /**
   * Heap cap per worker thread, in MB; a thread that exceeds it dies with `resource_limit`.
   * Default 512 (peak RSS under 400 MB with two threads); 2048 parses ~20% faster for ~100 MB
   * more per thread (docs/benchmarks.md).
   */
  maxMemoryMb?: number;
  /** Attempts per task, including the first. Default 3. */
  maxAttempts?: number;
  /** Task lease in ms (renewed by heartbeat every third of it). Default 30,000. */
  leaseMs?: number;
  /**
   * Ceilings on what a job may ask for: `maxPages`, `maxBytes`, `minChunkPages` and, for
   * non-admins, `maxPriority` (see {@link JobLimits}). Default none: the library's caller is the
   * operator. `ream serve` sets all of them (docs/security-limits.md).
   */
  jobLimits?: JobLimits;
  /** Pipelines of your own, by name, next to the built-in `extract` and `rules`. */
  pipelines?: Record<string, PipelineFactory>;
  /** Run tasks in this process. Default true; false makes a submit-only handle. */
  work?: boolean;
  /**
   * Distributed mode: Redis, PostgreSQL and an S3 bucket shared by every process (see
   * docs/deployment.md). Omitted: the embedded default over `dataDir`.
   */
  distributed?: DistributedSettings;
  /** Stop claiming work while memory or event-loop lag is over these limits. Default: no limits. */
  intake?: IntakeLimits;
  /**
   * See through unfinished jobs at open (schedule documents without a task, close jobs whose
   * work all ended). Default true; distributed workers may leave it to the server.
   */
  recover?: boolean;
  /**
   * Delivery of job webhooks: attempts, timeout and backoff (see {@link WebhookSettings}). A
   * delivery is a queue task, so any process that works (`work` not false) may send it.
   * `allowPrivate` lifts the rule that webhooks go to public addresses only: give it to every
   * process of a deployment (the server checks at submit, workers at delivery).
   */
  webhooks?: WebhookSettings;
}

/** `submit`'s files, paths taken as `{ path }`. */
async function* inputFiles(files: SubmitInput['files']): AsyncGenerator<FileInput> {
  for await (const file of files) yield typeof file === 'string' ? { path: file } : file;
}

export interface SubmitInput extends CreateJobInput {
  files: Iterable<FileInput | string> | AsyncIterable<FileInput | string>;
}

export interface WaitOptions {
  signal?: AbortSignal;
}

/** The library's handle on one embedded ream: submit work, follow it, read results. */
export interface Ream {
  readonly engine: Engine;
  /** The resolved data dir (records, blobs, lock; the HTTP service keeps tus uploads under it). */
  readonly dataDir: string;
  createJob(input?: CreateJobInput): Promise<JobRecord>;
  addFile(jobId: string, file: FileInput): Promise<AddedDocument>;
  /** Adds a file from a stream (an upload), named `name` in results; consumed, never buffered whole. */
  addStream(jobId: string, stream: Readable, name: string): Promise<AddedDocument>;
  /** Adds a document stored already (an upload) to the job; `source` defaults to its name. */
  addDocument(jobId: string, documentId: string, source?: string): Promise<AddedDocument>;
  /** Adds stored documents all at once: the job cannot end between two of them (see `Engine.addDocuments`). */
  addDocuments(jobId: string, docs: readonly DocumentToAdd[]): Promise<AddedDocument[]>;
  /**
   * Stores every file, then creates the job with all of them at once (it cannot end before the
   * last is in); resolves once all are stored (processing runs on). Bad options are refused first.
   */
  submit(input: SubmitInput): Promise<JobRecord>;
  getJob(jobId: string): Promise<JobRecord | undefined>;
  counts(jobId: string): Promise<JobCounts>;
  cancel(jobId: string): Promise<JobRecord>;
  /** Reruns only the failed parts of a `partially_succeeded` or `failed` job (see `Engine.retry`). */
  retry(jobId: string): Promise<JobRecord>;
  /** Cancels the job if it runs and removes its records; its documents and blobs stay. */
  deleteJob(jobId: string): Promise<void>;
  /** Resolves with the job once it has ended (succeeded, partially_succeeded, failed, cancelled). */
  wait(jobId: string, options?: WaitOptions): Promise<JobRecord>;
  results(jobId: string): AsyncGenerator<DocumentOutput>;
  subscribe(filter: EventFilter, listener: EventListener): () => void;
  search(q: string, options?: { tenantId?: string; limit?: number }): Promise<SearchHit[]>;
  /** The distributed deployment this handle is part of; `undefined` when embedded. */
  readonly deployment: DistributedSettings | undefined;
  /** Warnings about the deployment found at open (e.g. a Redis without AOF); also printed as process warnings. */
  readonly warnings: readonly string[];
  /**
   * Graceful drain: stops claiming, lets running tasks finish for up to `timeoutMs`, releases
   * what still runs to the queue, then closes.
   */
  drain(timeoutMs: number): Promise<void>;
  /** Stops taking work, leaves unfinished tasks for the next start, and closes everything. */
  close(): Promise<void>;
}

/**
 * Opens an embedded ream over a data dir: SQLite for records and the queue, a folder for blobs,
 * in-process events, a worker-thread pool for parsing. After a crash, opening it again resumes:
 * leases of the dead process are released at once and unfinished jobs carry on.
 */
export async function createReam(options: ReamOptions = {}): Promise<Ream> {
  const dataDir = resolve(options.dataDir ?? '.ream');
  const webhookGuard = new WebhookAddressGuard(options.webhooks); // a bad allow-list is refused before anything opens
  // Embedded: one process owns the data dir. Distributed: the services arbitrate, no lock.
  const unlock = options.distributed ? () => undefined : lockDataDir(dataDir);
  const threads = options.threads ?? availableParallelism();
  const pool = { threads, taskTimeoutMs: options.taskTimeoutMs ?? 120_000, maxMemoryMb: options.maxMemoryMb ?? DEFAULT_MAX_MEMORY_MB };
  let adapters: Adapters;
  try {
    adapters = options.distributed
      ? // Loaded only when asked for: the AWS SDK, BullMQ and pg cost an embedded process ~50 MB.
        await (await import('./distributed.ts')).openDistributedAdapters({ ...options.distributed, ...pool, cacheDir: resolve(dataDir, 'blob-cache', String(process.pid)) })
      : await openEmbeddedAdapters({ dataDir, ...pool });
  } catch (error) {
    unlock();
    throw error;
  }
  for (const warning of adapters.warnings) process.emitWarning(`ream: ${warning}`);
  const engine = new Engine(
    { ...adapters.deps, pipelines: new PipelineRegistry(options.pipelines) },
    {
      maxAttempts: options.maxAttempts ?? 3,
      webhookMaxAttempts: options.webhooks?.maxAttempts ?? WEBHOOK_DEFAULTS.maxAttempts,
      webhookTimeoutMs: options.webhooks?.timeoutMs ?? WEBHOOK_DEFAULTS.timeoutMs,
      webhookGuard,
      jobLimits: options.jobLimits ?? {},
    },
  );
  const tasks = new DocumentTasks(engine, adapters.deps);
  // No worker will record a task the queue failed on its own (its last lease expired): we do.
  const offExpired = adapters.deps.queue.onLeaseExpired((task, info) => {
    tasks.failed(task, fromErrorInfo(info)).catch((error: unknown) => {
      process.emitWarning(`ream: could not record the failure of ${task.id}: ${toReamError(error).message}`);
    });
  });
  // Another process cancelled a job: abort its tasks running here.
  const offCancelled = adapters.deps.queue.onJobCancelled?.((jobId) => engine.abortRunning(jobId)) ?? (() => undefined);
  try {
    await adapters.releaseLeases();
    if (options.recover !== false) await engine.recover((jobId, documentId) => tasks.failStuck(jobId, documentId));
  } catch (error) {
    offExpired();
    offCancelled();
    await adapters.close().catch(() => undefined);
    unlock();
    throw error;
  }

  const worker = options.work === false ? undefined : new Worker(adapters.deps, engine.aborts, tasks, {
    concurrency: options.concurrency ?? threads * 2,
    leaseMs: options.leaseMs ?? 30_000,
    idleMs: 250,
    retryBaseMs: 500,
    retryMaxMs: 30_000,
    retryByKind: {
      [TASK_KINDS.webhook]: {
        baseMs: options.webhooks?.retryBaseMs ?? WEBHOOK_DEFAULTS.retryBaseMs,
        maxMs: options.webhooks?.retryMaxMs ?? WEBHOOK_DEFAULTS.retryMaxMs,
      },
    },
    ...(options.intake === undefined ? {} : { intake: options.intake }),
  });
  worker?.start();

  let closed: Promise<void> | undefined;
  const ream: Ream = {
    engine,
    dataDir,
    createJob: (input) => engine.createJob(input),
    addFile: (jobId, file) => engine.addFile(jobId, file),
    addStream: (jobId, stream, name) => engine.addStream(jobId, stream, name),
    addDocument: (jobId, documentId, source) => engine.addDocument(jobId, documentId, source),
    addDocuments: (jobId, docs) => engine.addDocuments(jobId, docs),
    async submit({ files, ...input }) {
      // Files are stored before the job exists: a job is never seen without its documents.
      await engine.checkJob(input);
      const docs = await engine.storeFiles(inputFiles(files), input.tenantId);
      const job = await engine.createJob(input);
      await engine.addDocuments(job.id, docs);
      return (await engine.ports.store.getJob(job.id)) ?? job;
    },
    getJob: (jobId) => engine.ports.store.getJob(jobId),
    counts: (jobId) => engine.ports.store.jobCounts(jobId),
    cancel: (jobId) => engine.cancel(jobId),
    retry: (jobId) => engine.retry(jobId),
    deleteJob: (jobId) => engine.deleteJob(jobId),
    wait: (jobId, waitOptions) => waitForJob(engine, jobId, waitOptions?.signal),
    results: (jobId) => engine.results(jobId),
    subscribe: (filter, listener) => engine.subscribe(filter, listener),
    search: (q, searchOptions) =>
      engine.ports.search.search({ tenantId: searchOptions?.tenantId ?? DEFAULT_TENANT, q, limit: searchOptions?.limit ?? 20 }),
    warnings: adapters.warnings,
    deployment: options.distributed,
    async drain(timeoutMs) {
      await worker?.drain(timeoutMs);
      await ream.close();
    },
    close() {
      closed ??= (async () => {
        try {
          offExpired();
          offCancelled();
          await worker?.stop();
          await adapters.close();
        } finally {
          unlock();
        }
      })();
      return closed;
    },
  };
  return ream;
}

async function waitForJob(engine: Engine, jobId: string, signal?: AbortSignal): Promise<JobRecord> {
  return new Promise<JobRecord>((resolvePromise, reject) => {
    let settled = false;
    const finish = (error: unknown, job?: JobRecord): void => {
      if (settled) return;
      settled = true;
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      if (job) resolvePromise(job);
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    const check = (): void => {
      engine.ports.store.getJob(jobId).then(
        (job) => {
          if (!job) finish(ReamError.nonRetryable('not_found', `no job ${jobId}`));
          else if (TERMINAL_JOB_STATUSES.includes(job.status)) finish(undefined, job);
        },
        (error: unknown) => finish(error),
      );
    };
    const onAbort = (): void => finish(signal?.reason ?? new ReamError('cancelled', 'wait aborted'));
    const unsubscribe = engine.subscribe({ jobId }, (event) => {
      if (TERMINAL_EVENT_TYPES.has(event.type)) check();
    });
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    check(); // it may have ended before we subscribed
  });
}

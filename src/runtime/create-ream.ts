import { recordLibraryUse } from './library-use.ts';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BlobFiles } from '../blobs/local-copy.ts';
import { fromErrorInfo, ReamError, toReamError } from '../errors.ts';
import { createHash } from 'node:crypto';
import { createLlmClient, type LlmClient } from '../analyzers/llm/llm-client.ts';
import { RedisRateWindow } from '../analyzers/llm/redis-rate-window.ts';
import { llmSettingsFromEnv, publicEndpoint, type LlmProviderSettings } from '../analyzers/llm/settings.ts';
import { llmPipeline } from '../pipeline/llm-pipeline.ts';
import { rowsPipeline } from '../pipeline/rows-pipeline.ts';
import { PipelineRegistry } from '../pipeline/registry.ts';
import type { Adapters } from './adapters.ts';
import { openEmbeddedAdapters } from './embedded.ts';
import { CreditKeeper } from './credits/credit-keeper.ts';
import { removeDocument } from './document-removal.ts';
import { startPeriodicRecovery } from './periodic-recovery.ts';
import { RetentionSweeper } from './retention.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { DocumentTasks } from './document-tasks.ts';
import { PageImages } from './page-images.ts';
import { TableOutlines } from './table-outlines.ts';
import { Engine } from './engine.ts';
import type { Ream, ReamOptions, RecoveryState } from './ream.ts';
import { reamHandle } from './ream-handle.ts';
import { DEFAULT_MAX_MEMORY_MB } from './thread-defaults.ts';
import { checkReamOptions } from './ream-options-check.ts';
import { WebhookAddressGuard } from './webhook-address.ts';
import { WEBHOOK_DEFAULTS } from './webhook-delivery.ts';
import { TASK_KINDS } from './task-kinds.ts';
import { Worker } from './worker.ts';
import { closePdfRenderers } from '../reports/pdf/shared-renderer.ts';

// The facade's types live in ream.ts; importers of create-ream.ts find them here too.
export type * from './ream.ts';
export { UPLOAD_ID, uploadExpired } from './ream.ts';
export { DEFAULT_MAX_MEMORY_MB } from './thread-defaults.ts';
export type { WebhookAddressOptions } from './webhook-address.ts';

/**
 * Opens an embedded ream over a data dir: SQLite for records and the queue, a folder for blobs,
 * in-process events, a worker-thread pool for parsing. After a crash, opening it again resumes:
 * leases of the dead process are released at once and unfinished jobs carry on.
 */
export async function createReam(options: ReamOptions = {}): Promise<Ream> {
  checkReamOptions(options);
  const dataDir = resolve(options.dataDir ?? '.ream');
  const webhookGuard = new WebhookAddressGuard(options.webhooks); // a bad allow-list is refused before anything opens
  // Embedded: one process owns the data dir. Distributed: the services arbitrate, no lock.
  const unlock = options.distributed ? () => undefined : lockDataDir(dataDir);
  if (!options.distributed) {
    try {
      recordLibraryUse(dataDir);
    } catch (error) {
      unlock();
      throw error;
    }
  }
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
  const llm = openLlm(options);
  const engine = new Engine(
    { ...adapters.deps, pipelines: new PipelineRegistry({ llm: llmPipeline(llm.client), rows: rowsPipeline(llm.client), ...options.pipelines }) },
    {
      maxAttempts: options.maxAttempts ?? 3,
      webhookMaxAttempts: options.webhooks?.maxAttempts ?? WEBHOOK_DEFAULTS.maxAttempts,
      webhookTimeoutMs: options.webhooks?.timeoutMs ?? WEBHOOK_DEFAULTS.timeoutMs,
      webhookGuard,
      jobLimits: options.jobLimits ?? {},
      credits: new CreditKeeper(adapters.deps.store, options.credits, { soleWriter: !options.distributed }),
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
  const offJobCancelled = adapters.deps.queue.onJobCancelled?.((jobId) => engine.abortRunning(jobId));
  const offDocumentCancelled = adapters.deps.queue.onDocumentCancelled?.((jobId, documentId) => engine.abortRunning(jobId, documentId));
  const offCancelled = (): void => {
    offJobCancelled?.();
    offDocumentCancelled?.();
  };
  let recoveryState: RecoveryState = options.recover === false ? 'off' : 'running';
  const recoverNow = async (signal?: AbortSignal): Promise<void> => {
    const started = performance.now();
    let ended: boolean;
    try {
      ended = await engine.recover((jobId, documentId) => tasks.failStuck(jobId, documentId), signal);
    } catch (error) {
      recoveryState = 'failed';
      options.onRecovered?.(performance.now() - started, toReamError(error));
      throw error;
    }
    // Stopped by close: not "done", or a log would say every job was seen to when some were not.
    const stopped = ended ? undefined : ReamError.nonRetryable('cancelled', 'recovery at start was stopped by close before it ended; the next start finishes it');
    recoveryState = ended ? 'done' : 'stopped';
    options.onRecovered?.(performance.now() - started, stopped);
  };
  try {
    // Before any work starts, background recovery's too: the worker must not find a dead process's leases.
    await adapters.releaseLeases();
    if (options.recover === true || options.recover === undefined) await recoverNow();
  } catch (error) {
    offExpired();
    offCancelled();
    await adapters.close().catch(() => undefined);
    unlock();
    throw error;
  }

  const recovery = options.distributed && options.recover !== false
    ? startPeriodicRecovery(async () => void (await engine.recover((jobId, documentId) => tasks.failStuck(jobId, documentId))), (error) => {
      process.emitWarning(`ream: periodic recovery failed (it runs again later): ${toReamError(error).message}`);
    })
    : undefined;

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
    ...(options.onDrainRequested === undefined ? {} : { onDrainRequested: options.onDrainRequested }),
    ...(options.onDiskFull === undefined ? {} : { onDiskFull: options.onDiskFull }),
  });
  worker?.start();
  // After the worker starts: what recovery schedules is worked on as it goes.
  const background = options.recover === 'background' ? startBackgroundRecovery(recoverNow, options.onRecovered === undefined, options.recoverAfter) : undefined;

  const removal = { store: adapters.deps.store, blobs: adapters.deps.blobs, search: adapters.deps.search, analysis: adapters.deps.analysis };
  const retention = new RetentionSweeper({
    store: adapters.deps.store,
    deleteJob: (jobId) => engine.deleteJob(jobId),
    removeDocument: (documentId) => removeDocument(removal, documentId),
  }, options.retention ?? {});
  if (options.retention) retention.start();

  // Page images and table outlines read stored documents as files: one set of local copies for both.
  const { blobs, formats } = adapters.deps;
  const views = { formats, blobFiles: adapters.deps.blobFiles ?? new BlobFiles(blobs, { dir: join(tmpdir(), `ream-document-views-${process.pid}`) }) };
  let closed: Promise<void> | undefined;
  return reamHandle(engine, {
    dataDir,
    pageImages: new PageImages(views),
    tableOutlines: new TableOutlines(views),
    deployment: options.distributed,
    warnings: adapters.warnings,
    recovery: () => recoveryState,
    ...(adapters.deps.analysis ? { analysis: adapters.deps.analysis } : {}),
    ...(llm.settings?.prices ? { prices: llm.settings.prices } : {}),
    drainWork: async (timeoutMs) => {
      await worker?.drain(timeoutMs);
    },
    sweepRetention: (now) => retention.sweep(now),
    compact: () => adapters.compact?.() ??
      Promise.reject(ReamError.nonRetryable('validation_failed', 'compacting is for an embedded data dir: PostgreSQL and S3 give back their room themselves (autovacuum, object deletes)')),
    uploadRetention: retention,
    close() {
      closed ??= (async () => {
        try {
          offExpired();
          offCancelled();
          await background?.stop();
          await recovery?.stop();
          await retention.stop();
          await worker?.stop();
          engine.stopEvents();
          // The worker's tasks are done with Chromium: the process may end without it.
          await closePdfRenderers();
          await llm.close();
          await adapters.close();
        } finally {
          unlock();
        }
      })();
      return closed;
    },
  });
}

/**
 * Recovery at open, run beside the serving ream: it is safe beside working tasks (enqueue
 * dedupes by task id; a document is failed as stuck only once it has no task left and is still
 * unfinished), which periodic recovery relies on too. A failure is a warning (`warn`: no
 * `onRecovered` was given to say it), and the next start or periodic run tries again.
 */
function startBackgroundRecovery(recover: (signal: AbortSignal) => Promise<void>, warn: boolean, after?: PromiseLike<unknown>): { stop(): Promise<void> } {
  const controller = new AbortController();
  // Begun once `after` settles, or at once when closed first (it then stops before its first job
  // and says so): a gate that never settles must not hold close.
  const gate = new Promise<void>((resolve) => {
    Promise.resolve(after).then(() => resolve(), () => resolve());
    controller.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const running = gate.then(() => recover(controller.signal)).catch((error: unknown) => {
    if (warn) process.emitWarning(`ream: recovery at start failed (the next start tries again): ${toReamError(error).message}`);
  });
  return {
    async stop() {
      controller.abort();
      await running;
    },
  };
}

/**
 * The model client of the `llm` pipeline, one per process so its pacing sees every call. In
 * distributed mode the window is in Redis for every worker, with or without a requests/tokens
 * per minute limit: a Retry-After one worker gets pauses them all.
 */
function openLlm(options: ReamOptions): { client: LlmClient | undefined; settings: LlmProviderSettings | undefined; close(): Promise<void> } {
  const settings = options.llm === false ? undefined : (options.llm ?? llmSettingsFromEnv());
  if (!settings) return { client: undefined, settings: undefined, close: () => Promise.resolve() };
  const window = options.distributed
    ? new RedisRateWindow({
      url: options.distributed.redisUrl,
      ...(options.distributed.prefix === undefined ? {} : { prefix: options.distributed.prefix }),
      // One window per provider account and model: the endpoint without credentials names it.
      name: createHash('sha256').update(`${publicEndpoint(settings.baseURL)} ${settings.model}`).digest('hex').slice(0, 16),
      ...(settings.requestsPerMinute === undefined ? {} : { requestsPerMinute: settings.requestsPerMinute }),
      ...(settings.tokensPerMinute === undefined ? {} : { tokensPerMinute: settings.tokensPerMinute }),
    })
    : undefined;
  return {
    client: createLlmClient(settings, window ? { window } : {}),
    settings,
    close: () => window?.close() ?? Promise.resolve(),
  };
}

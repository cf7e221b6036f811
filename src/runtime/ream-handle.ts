import { basename } from 'node:path';
import type { UsageView } from '../api-types.ts';
import { errorGroups } from './error-groups.ts';
import { costOf, type PriceTable } from '../analyzers/llm/usage.ts';
import { addUsage, NO_USAGE, type AnalysisStore, type ModelUsage } from '../analyzers/store/port.ts';
import { ReamError, toReamError } from '../errors.ts';
import { asJson } from '../json.ts';
import { jobArtifact, jobArtifacts } from '../reports/job-artifacts.ts';
import { unreadReason } from '../pipeline/merge.ts';
import { DEFAULT_TENANT, TERMINAL_JOB_STATUSES, type JobRecord } from '../store/port.ts';
import { answersWithin } from './answers-within.ts';
import { findApiKey } from './api-keys.ts';
import { type Engine, type FileInput } from './engine.ts';
import { rememberEngine } from './internals.ts';
import { loadJobView } from './job-view.ts';
import type { PageImages } from './page-images.ts';
import type { TableOutlines } from './table-outlines.ts';
import type { Ream, RecoveryState, SubmitInput } from './ream.ts';
import { storeDocument } from './store-document.ts';
import { removeDocument } from './document-removal.ts';
import type { RetentionReport, RetentionSweeper } from './retention.ts';
import type { CompactReport } from './adapters.ts';
import { tenantAccounts } from './credits/tenant-accounts.ts';
import { submitJob } from './submit-job.ts';
import { uploadRecords } from './upload-records.ts';
import { documentPageBatches, documentPages, documentTableBatches } from './document-pages.ts';

/** What a handle needs besides its engine: how the ream was opened and how it ends. */
export interface HandleParts {
  dataDir: string;
  deployment: Ream['deployment'];
  warnings: readonly string[];
  /** Where recovery at open stands. */
  recovery(): RecoveryState;
  /** Lets running tasks finish for up to `timeoutMs`, releasing what still runs (before `close`). */
  drainWork(timeoutMs: number): Promise<void>;
  /** Stops the worker and closes the adapters (once). */
  close(): Promise<void>;
  /** Runs the retention sweep now (see `ReamOptions.retention`). */
  sweepRetention(now?: number): Promise<RetentionReport>;
  /** Gives back deleted records' room (see `Ream.compact`). */
  compact(): Promise<CompactReport>;
  /** Unfinished uploads' lifetimes and sweeps (see `Ream.attachUploads`). */
  uploadRetention: Pick<RetentionSweeper, 'uploadExpiry' | 'attachUploads'>;
  /** The analyzers' usage ledger, when the deployment has one. */
  analysis?: AnalysisStore;
  /** USD per million tokens by model, for costs in usage views. */
  prices?: PriceTable;
  /** Pages drawn for viewing (`pageImage`). */
  pageImages: PageImages;
  /** Sheets and columns of stored tables (`tableOutline`). */
  tableOutlines: TableOutlines;
}

/** A usage view of per-model rows, or `undefined` when nothing was used. */
export function usageView(rows: readonly ModelUsage[], prices: PriceTable | undefined): UsageView | undefined {
  if (rows.length === 0) return undefined;
  const sum = rows.reduce((total, row) => addUsage(total, row), NO_USAGE);
  const cost = costOf(rows, prices);
  return {
    ...sum, totalTokens: sum.promptTokens + sum.completionTokens, ...(cost === undefined ? {} : { costUsd: cost }),
    byModel: rows.map((row) => ({ model: row.model, promptTokens: row.promptTokens, completionTokens: row.completionTokens, calls: row.calls, cachedCalls: row.cachedCalls })),
  };
}

/** How long each service may take to answer a readiness probe. */
const READY_TIMEOUT_MS = 5_000;

/** `submit`'s files, paths taken as `{ path }`. */
async function* inputFiles(files: SubmitInput['files']): AsyncGenerator<FileInput> {
  for await (const file of files) yield typeof file === 'string' ? { path: file } : file;
}

/** The facade over an engine: every door of a {@link Ream}. The engine itself stays inside src/runtime/. */
export function reamHandle(engine: Engine, parts: HandleParts): Ream {
  const { store } = engine.ports;
  const uploads = uploadRecords(store);
  // `wait`s still pending when the handle closes: each is ended with `unavailable` then.
  const waits = new Set<(error: ReamError) => void>();
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await parts.close();
      } finally {
        const error = new ReamError('unavailable', 'this ream was closed before the job ended', { retryable: false });
        for (const end of waits) end(error);
      }
    })();
    return closing;
  };
  const ream: Ream = {
    dataDir: parts.dataDir,
    deployment: parts.deployment,
    warnings: parts.warnings,
    async submit({ files, ...input }) {
      return (await submitJob(engine, uploads, { ...input, files: inputFiles(files) })).job;
    },
    submitJob: (input) => submitJob(engine, uploads, input),
    createJob: (input) => engine.createJob(input),
    addFile: (jobId, file) => engine.addFile(jobId, file),
    addStream: (jobId, stream, name) => engine.addStream(jobId, stream, name),
    addDocument: (jobId, documentId, source) => engine.addDocument(jobId, documentId, source),
    addDocuments: (jobId, docs) => engine.addDocuments(jobId, docs),
    holdOpen: (jobId) => engine.holdOpen(jobId),
    getJob: (jobId, options) => store.getJob(jobId, options),
    listJobs: (query) => store.listJobs(query),
    jobByKey: (tenantId, key) => store.findJobByKey(tenantId, key),
    async counts(jobId) {
      const counts = await store.jobCounts(jobId);
      // All zeros for a job with no document yet, and for no job: the second is `not_found`, as everywhere.
      if (counts.documentsTotal === 0 && !(await store.getJob(jobId))) throw ReamError.nonRetryable('not_found', `no job ${jobId}`);
      return counts;
    },
    async jobView(job) {
      const view = await loadJobView(engine, job);
      const usage = parts.analysis ? usageView(await parts.analysis.jobUsage(job.id), parts.prices) : undefined;
      return usage ? { ...view, usage } : view;
    },
    async usage(scope = {}) {
      const { analysis } = parts;
      if (!analysis) return [];
      if (scope.jobId !== undefined) return analysis.jobUsage(scope.jobId);
      if (scope.tenantId !== undefined) return analysis.tenantUsage(scope.tenantId);
      return analysis.totalUsage();
    },
    async usageView(scope = {}) {
      return usageView(await ream.usage(scope), parts.prices) ?? { ...NO_USAGE, totalTokens: 0, byModel: [] };
    },
    cancel: (jobId) => engine.cancel(jobId),
    cancelDocument: (jobId, documentId) => engine.cancelDocument(jobId, documentId),
    retry: (jobId) => engine.retry(jobId),
    deleteJob: (jobId) => engine.deleteJob(jobId),
    wait: (jobId, waitOptions) => waitForJob(engine, jobId, waitOptions?.signal, waits),
    results: (jobId) => engine.results(jobId),
    jobDocuments: (jobId, page) => store.listJobDocuments(jobId, page),
    jobDocument: (jobId, documentId) => store.getJobDocument(jobId, documentId),
    async documentResult(jobId, documentId) {
      const output = await engine.documentResult(jobId, documentId);
      return output && { jobId, documentId, output: asJson(output) };
    },
    async *documentPages(jobId, documentId, selection) {
      const jobDoc = await store.getJobDocument(jobId, documentId);
      if (jobDoc?.pagesTotal === null || jobDoc?.pagesTotal === undefined) return;
      yield* documentPages(store, jobId, documentId, jobDoc.pagesTotal, selection, unreadReason(jobDoc.status));
    },
    async *documentPageBatches(jobId, documentId, options) {
      const jobDoc = await store.getJobDocument(jobId, documentId);
      if (jobDoc?.pagesTotal === null || jobDoc?.pagesTotal === undefined) return;
      yield* documentPageBatches(store, jobId, documentId, jobDoc.pagesTotal, undefined, { unread: unreadReason(jobDoc.status), ...options });
    },
    async *documentTableBatches(jobId, documentId, options) {
      const jobDoc = await store.getJobDocument(jobId, documentId);
      if (jobDoc?.pagesTotal === null || jobDoc?.pagesTotal === undefined) return;
      yield* documentTableBatches(store, jobId, documentId, jobDoc.pagesTotal, { unread: unreadReason(jobDoc.status), ...options });
    },
    artifacts: (jobId, query) => jobArtifacts(store, jobId, () => engine.results(jobId), query),
    artifact: (jobId, name) => jobArtifact(store, jobId, name, () => engine.results(jobId)),
    artifactBytes: (artifact, range) => engine.ports.blobs.get(artifact.sha256, range),
    storeDocument: (stream, name, options) => storeDocument(engine, stream, name, options),
    getDocument: (documentId) => store.getDocument(documentId),
    deleteDocument: (documentId, tenantId) => removeDocument({ store, blobs: engine.ports.blobs, search: engine.ports.search, analysis: engine.ports.analysis }, documentId, tenantId),
    async pageImage(documentId, page, options = {}) {
      const doc = await store.getDocument(documentId);
      if (!doc) throw ReamError.nonRetryable('not_found', `no document ${documentId}`);
      return parts.pageImages.render(doc, page, options.dpi, options.signal);
    },
    async tableOutline(documentId, signal) {
      const doc = await store.getDocument(documentId);
      if (!doc) throw ReamError.nonRetryable('not_found', `no document ${documentId}`);
      return parts.tableOutlines.outline(doc, signal);
    },
    uploads,
    async search(q, searchOptions) {
      const tenantId = searchOptions?.tenantId ?? DEFAULT_TENANT;
      const filters = searchOptions?.filters;
      const offset = searchOptions?.offset;
      const hits = await engine.ports.search.search({ tenantId, q, limit: searchOptions?.limit ?? 20, ...(offset === undefined ? {} : { offset }), ...(filters ? { filters } : {}) });
      // Each hit names its document's file and newest job: read once per document, not per hit.
      const documents = new Map(await Promise.all([...new Set(hits.map((hit) => hit.documentId))].map(async (id) => {
        // Filtered by a job, the hit opens in that job (its result is the one that matched).
        const [doc, jobId] = await Promise.all([store.getDocument(id), filters?.jobId ?? store.latestJobOfDocument(id, tenantId)]);
        // The name it has in that job (the same content may have come in under other names before).
        const jobDoc = jobId ? await store.getJobDocument(jobId, id) : undefined;
        return [id, { name: jobDoc ? basename(jobDoc.source) : doc?.name ?? '', jobId: jobId ?? null }] as const;
      })));
      return hits.map((hit) => ({ ...hit, name: documents.get(hit.documentId)?.name ?? '', jobId: documents.get(hit.documentId)?.jobId ?? null }));
    },
    subscribe: (filter, listener) => engine.subscribe(filter, listener),
    listEvents: (jobId, afterSeq, limit) => store.listEvents(jobId, afterSeq, limit),
    listWorkers: (seenSince) => store.listWorkers(seenSince),
    commandWorker: (id, command) => store.commandWorker(id, command),
    appendAudit: (entry) => store.appendAudit(entry),
    sweepRetention: (now) => parts.sweepRetention(now),
    compact: () => parts.compact(),
    uploadExpiry: (defaultMs) => parts.uploadRetention.uploadExpiry(defaultMs),
    attachUploads: (uploads, options) => parts.uploadRetention.attachUploads(uploads, options),
    listAudit: (query) => store.listAudit(query),
    tenants: tenantAccounts(store, engine.settings.credits),
    jobStatusCounts: () => store.jobStatusCounts(),
    taskCounts: (jobId) => engine.ports.queue.counts(jobId),
    queueBacklog: () => engine.ports.queue.backlog(),
    oldestQueuedJobAt: () => store.oldestJobCreatedAt('queued'),
    putMetricsSample: (sample, capacity) => store.putMetricsSample(sample, capacity),
    metricsHistory: (since) => store.listMetricsSamples(since),
    errorGroups: (query) => errorGroups(store, query),
    pipelines: () => engine.describePipelines(),
    async estimateJob({ tenantId, pipeline, options, documents }) {
      const estimate = engine.estimateJob({ ...(pipeline === undefined ? {} : { pipeline }), ...(options === undefined ? {} : { options }), tenantId }, documents);
      return { ...estimate, balance: await store.creditBalance(tenantId) };
    },
    async estimateStoredJob({ tenantId, pipeline, options, documentIds, unstored = 0, signal }) {
      const docs = [];
      for (const documentId of documentIds) {
        const doc = await store.getDocument(documentId);
        // Another tenant's document is as unknown as a missing one.
        if (!doc || doc.tenantId !== tenantId || doc.deletedAt !== undefined) throw ReamError.nonRetryable('not_found', `no document ${documentId}`);
        docs.push(doc);
      }
      const input = { ...(pipeline === undefined ? {} : { pipeline }), ...(options === undefined ? {} : { options }), tenantId };
      const estimate = await engine.estimateStoredJob(input, docs, { unstored, ...(signal === undefined ? {} : { signal }) });
      return { ...estimate, balance: await store.creditBalance(tenantId) };
    },
    async ready() {
      // Each service the deployment runs on must answer (PostgreSQL or SQLite, Redis, S3 or the
      // blob folder), within a bound: a hung connection makes the process unready, not /readyz hang.
      const { queue, blobs } = engine.ports;
      const probes: Array<[string, () => Promise<unknown>]> = [
        ['the store', () => store.getJob('readyz-probe')],
        ['the queue', () => queue.counts('readyz-probe')],
        ['the blob store', () => blobs.stat('0'.repeat(64))],
      ];
      await Promise.all(probes.map(([name, probe]) => answersWithin(name, probe, READY_TIMEOUT_MS)));
      return { recovery: parts.recovery() };
    },
    findApiKey: (token) => findApiKey(store, token),
    async apiKeyLive(tenantId, keyId) {
      // By its id: checked before each pushed event, it must not read all of the tenant's keys.
      const key = await store.getApiKey(keyId);
      return key?.tenantId === tenantId && key.revokedAt === null;
    },
    async drain(timeoutMs) {
      await parts.drainWork(timeoutMs);
      await close();
    },
    close,
  };
  refuseAfterClose(ream, () => closing !== undefined);
  rememberEngine(ream, engine);
  return ream;
}

/**
 * Every method but `close` and `drain` (both idempotent) refuses with `unavailable` once the
 * handle is closing, rather than failing deep inside a closed driver with a message of its own;
 * so do the methods of its namespaces (`ream.tenants`, `ream.uploads`).
 */
function refuseAfterClose(ream: Ream, isClosed: () => boolean, path = 'ream'): void {
  // The handle's own properties, looked at generically: each function is wrapped in place, so
  // the object keeps its identity (rememberEngine) and its type.
  const methods = ream as unknown as Record<string, unknown>;
  for (const [name, method] of Object.entries(methods)) {
    if (isNamespace(method) && path === 'ream') refuseAfterClose(method as unknown as Ream, isClosed, `ream.${name}`);
    if (typeof method !== 'function' || name === 'close' || name === 'drain') continue;
    methods[name] = function (this: unknown, ...args: unknown[]): unknown {
      if (isClosed()) throw new ReamError('unavailable', `${path}.${name}: this ream is closed`, { retryable: false });
      return (method as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
}

/** An object literal of functions made for this handle (not a class instance, not shared settings). */
function isNamespace(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype && Object.values(value).some((member) => typeof member === 'function');
}

async function waitForJob(engine: Engine, jobId: string, signal: AbortSignal | undefined, waits: Set<(error: ReamError) => void>): Promise<JobRecord> {
  return new Promise<JobRecord>((resolvePromise, reject) => {
    let settled = false;
    const finish = (error: unknown, job?: JobRecord): void => {
      if (settled) return;
      settled = true;
      waits.delete(finish);
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      if (job) resolvePromise(job);
      else reject(toReamError(error));
    };
    waits.add(finish);
    const check = (): void => {
      engine.ports.store.getJob(jobId).then(
        (job) => {
          if (!job) finish(ReamError.nonRetryable('not_found', `no job ${jobId}`));
          else if (TERMINAL_JOB_STATUSES.includes(job.status)) finish(undefined, job);
        },
        (error: unknown) => finish(error),
      );
    };
    // The signal's reason is kept as the cause; the error itself has ream's code.
    const onAbort = (): void => {
      const reason: unknown = signal?.reason;
      const timedOut = reason instanceof Error && reason.name === 'TimeoutError';
      finish(new ReamError(timedOut ? 'timeout' : 'cancelled', timedOut ? 'wait timed out' : 'wait aborted', { cause: reason }));
    };
    const unsubscribe = engine.subscribe({ jobId }, (event) => {
      if (event.type === 'job.completed' || event.type === 'job.failed' || event.type === 'job.cancelled') check();
    });
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    check(); // it may have ended before we subscribed
  });
}

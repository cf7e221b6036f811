// Over 300 lines on purpose: the three document stages (inspect, extract, merge) share one task
// scope, one checkpoint check and one finishing path; apart they would each repeat them.
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { AnalysisStore, AnalyzeContext } from '../analyzers/port.ts';
import { BlobFiles, type BlobFile } from '../blobs/local-copy.ts';
import { ReamError, toReamError } from '../errors.ts';
import type { ChunkRef } from '../events/types.ts';
import type { DocumentFormat, DocumentMetadata, Extraction, PageWarning, ReadOptions } from '../formats/types.ts';
import { asJson, fromJson, type JsonValue } from '../json.ts';
import { planChunks } from '../pipeline/chunk-planner.ts';
import { pagesToRedo, replacePages } from '../pipeline/chunk-redo.ts';
import { ChunkMerger, missingChunk, packChunk, unpackChunk, type ChunkOutput, type StoredChunkOutput } from '../pipeline/merge.ts';
import type { DocumentOutput, Pipeline } from '../pipeline/types.ts';
import { REPORTS_ANALYZER } from '../reports/artifacts.ts';
import { recordEarlierFiles, reportBlobs, reportFiles } from '../reports/job-artifacts.ts';
import { renderedBlobs } from '../reports/reports-analyzer.ts';
import type { LeasedTask, TaskQueue } from '../queue/port.ts';
import type { SearchIndex } from '../search/port.ts';
import type { BlobStore } from '../blobs/port.ts';
import type { Formats } from '../formats/registry.ts';
import {
  TERMINAL_DOCUMENT_STATUSES,
  TERMINAL_JOB_STATUSES,
  type DocumentRecord,
  type JobDocumentRecord,
  type JobRecord,
  type Store,
} from '../store/port.ts';
import { inSpan, traceField } from '../tracing/spans.ts';
import { addChildDocuments } from './child-documents.ts';
import { chunkProgress } from './chunk-progress.ts';
import { documentChunkPages, inspectedChunkPages, keepsPagesInResult, outputBase, type DocumentInfo } from './document-output.ts';
import { pipelineHere } from './pipeline-here.ts';
import { analyzeChunk, analyzeDocument } from './document-analysis.ts';
import type { Engine } from './engine.ts';
import { TASK_KINDS, taskIds, type ChunkPayload, type DocumentPayload } from './task-kinds.ts';
import { deliverWebhook, webhookGivenUp, type WebhookDeliveryContext } from './webhook-delivery.ts';

/** The chunk's own warnings, as a spread: none leaves the checkpoint as it always was. */
function ownedWarnings(warnings: readonly PageWarning[] | undefined, owned: (page: number) => boolean): { warnings?: PageWarning[] } {
  const mine = (warnings ?? []).filter((warning) => owned(warning.page));
  return mine.length > 0 ? { warnings: mine } : {};
}

/** What was read of `pages` alone. */
function onlyPages(extraction: Extraction, pages: ReadonlySet<number>): Extraction {
  const wanted = (item: { page: number }): boolean => pages.has(item.page);
  return {
    pages: extraction.pages.filter(wanted),
    failures: extraction.failures.filter(wanted),
    ...(extraction.warnings ? { warnings: extraction.warnings.filter(wanted) } : {}),
  };
}

/** A succeeded chunk of which only some pages (its failed rows) run again on a job retry. */
interface ChunkRedo {
  chunk: ChunkRef;
  redoPages: number[];
}

/** The records and services the document tasks read and write. */
export interface DocumentTaskPorts {
  store: Store;
  queue: TaskQueue;
  search: SearchIndex;
  formats: Formats;
  blobs: BlobStore;
  /** Local files for blobs (see `EngineDeps.blobFiles`); default copies under the OS temp dir. */
  blobFiles?: BlobFiles;
  /** Response cache and usage ledger handed to analyzers (see `EngineDeps.analysis`). */
  analysis?: AnalysisStore;
}

/** The job's read options for the task's file, with the file's sha256: what a format keeps of it between reads is keyed by its content. */
function readOf(scope: TaskScope): ReadOptions {
  return { ...scope.pipeline.read, sha256: scope.doc.sha256 };
}

/** The metadata the document's inspection stored, for a reader to check its pages against (`ReadOptions.inspected`). */
function inspectedMetadata(scope: TaskScope): DocumentMetadata {
  return fromJson<Partial<DocumentInfo> | null>(scope.jobDoc.info)?.metadata ?? {};
}

/** Everything a task needs about its document, loaded once per task. */
interface TaskScope {
  job: JobRecord;
  jobDoc: JobDocumentRecord;
  doc: DocumentRecord;
  pipeline: Pipeline;
  path: string;
}

/**
 * The document stages as queue tasks: `document.inspect` (validate, chunk), `chunk.extract`
 * (extract, analyze) and `document.merge` (merge, index, complete). Each writes its checkpoint
 * before its task completes, and each starts by checking that checkpoint, so a task repeated
 * after a crash does nothing twice.
 */
export class DocumentTasks {
  readonly #engine: Engine;
  readonly #ports: DocumentTaskPorts;
  readonly #webhooks: WebhookDeliveryContext;
  /** The local blob file each running task holds (by task id), released when its run ends. */
  readonly #held = new Map<string, BlobFile>();
  #defaultBlobFiles: BlobFiles | undefined;

  /** `engine` for the job's transitions and events; `ports` for the records and services the tasks use. */
  constructor(engine: Engine, ports: DocumentTaskPorts) {
    this.#engine = engine;
    this.#ports = ports;
    this.#webhooks = { store: ports.store, views: engine, timeoutMs: engine.settings.webhookTimeoutMs, guard: engine.settings.webhookGuard };
  }

  #blobFiles(): BlobFiles {
    const { blobs, blobFiles } = this.#ports;
    return blobFiles ?? (this.#defaultBlobFiles ??= new BlobFiles(blobs, { dir: join(tmpdir(), `ream-blob-cache-${process.pid}`) }));
  }

  /** Runs one task. Returns normally when the work is done or there is nothing left to do. */
  async run(task: LeasedTask, signal: AbortSignal): Promise<void> {
    try {
      switch (task.kind) {
        case TASK_KINDS.inspect:
          return await this.#inspect(task, fromJson<DocumentPayload>(task.payload), signal);
        case TASK_KINDS.extract:
          return await this.#extract(task, fromJson<ChunkPayload>(task.payload), signal);
        case TASK_KINDS.merge:
          return await this.#merge(task, fromJson<DocumentPayload>(task.payload), signal);
        case TASK_KINDS.webhook:
          return await deliverWebhook(this.#webhooks, task.payload, signal);
        default:
          throw ReamError.nonRetryable('internal', `unknown task kind "${task.kind}"`);
      }
    } finally {
      // The task's local blob copy may be evicted again once the task is done with it.
      this.#held.get(task.id)?.release();
      this.#held.delete(task.id);
    }
  }

  /** Called once when a task has failed for good: records the failure where users will see it. */
  async failed(task: LeasedTask, error: ReamError): Promise<void> {
    const { store } = this.#ports;
    switch (task.kind) {
      case TASK_KINDS.extract: {
        const { documentId, chunk } = fromJson<ChunkPayload>(task.payload);
        const stored = await store.getChunkState(task.jobId, documentId, chunk.index);
        if (stored?.status === 'succeeded') return; // an earlier attempt's checkpoint stands
        const job = await store.getJob(task.jobId);
        if (!job) return; // deleted meanwhile: nothing to record
        await store.putChunkResult({
          jobId: task.jobId, documentId, index: chunk.index, from: chunk.from, to: chunk.to,
          status: 'failed', output: null, error: error.toJSON(), durationMs: 0,
        });
        await this.#engine.emit(job, 'chunk.failed', { documentId, chunk, stage: 'extract', error: error.toJSON(), attempt: task.attempts });
        return; // the merge task still runs (a failed child releases its parent) and reports the pages
      }
      case TASK_KINDS.inspect:
      case TASK_KINDS.merge: {
        const { documentId } = fromJson<DocumentPayload>(task.payload);
        await this.#failDocument(task.jobId, documentId, error);
        return;
      }
      case TASK_KINDS.webhook:
        webhookGivenUp(task, error); // announcing the job failed, not the job: no record changes
        return;
      default:
        return;
    }
  }

  /** For recovery: a document whose tasks all ended without finishing it. */
  async failStuck(jobId: string, documentId: string): Promise<void> {
    await this.#failDocument(jobId, documentId, ReamError.nonRetryable('internal', 'a worker died during the last attempt of this document\'s task'));
  }

  async #scope(task: LeasedTask, documentId: string): Promise<TaskScope | undefined> {
    const { store } = this.#ports;
    const job = await store.getJob(task.jobId);
    const jobDoc = await store.getJobDocument(task.jobId, documentId);
    const doc = await store.getDocument(documentId, { deleted: true });
    if (!job || !jobDoc || !doc) return undefined; // deleted meanwhile: nothing to do
    if (job.status === 'cancelled' || TERMINAL_DOCUMENT_STATUSES.includes(jobDoc.status)) return undefined;
    if (doc.deletedAt !== undefined) {
      // Deleted once an earlier run of this job had ended (a retry): its bytes may be gone.
      await this.#failDocument(job.id, documentId, ReamError.nonRetryable('document_deleted', `document ${documentId} was deleted after this job first read it: submit it again`));
      return undefined;
    }
    const pipeline = pipelineHere(this.#engine, job);
    // Parsers read files: a blob store without local files (S3) is read through a local copy.
    const file = await this.#blobFiles().acquire(doc.sha256).catch((error: unknown) => {
      throw storedBytesError(error);
    });
    this.#held.get(task.id)?.release();
    this.#held.set(task.id, file);
    return { job, jobDoc, doc, pipeline, path: file.path };
  }

  async #inspect(task: LeasedTask, { documentId, retry = 0 }: DocumentPayload, signal: AbortSignal): Promise<void> {
    const scope = await this.#scope(task, documentId);
    if (!scope) return;
    const { store, queue, formats } = this.#ports;
    const job = await this.#engine.markStarted(scope.job);
    let chunks: (ChunkRef | ChunkRedo)[];
    if (scope.jobDoc.pagesTotal !== null && scope.jobDoc.chunksTotal !== null) {
      // Inspected already (a repeat after a crash): only make sure the flow exists. Never move
      // the document back to `running`: its merge may have finished it meanwhile.
      const plan = planChunks(scope.jobDoc.pagesTotal, inspectedChunkPages(scope.pipeline, scope.jobDoc));
      chunks = retry > 0 ? await this.#chunksToRetry(job.id, documentId, plan) : plan;
      // The first run died between marking the document inspected and saying so: said now, once.
      if (retry === 0 && scope.jobDoc.status === 'running' && !(await store.hasDocumentEvent(job.id, 'document.started', documentId))) {
        await this.#engine.emit(job, 'document.started', { documentId, stage: 'validate' });
      }
    } else {
      const format = await formats.identify(scope.path, scope.doc.name, scope.pipeline.limits);
      const inspection = await inSpan('inspect', { 'ream.media_type': format.mediaType }, () => format.inspect(scope.path, scope.pipeline.limits, signal, readOf(scope)));
      chunks = planChunks(inspection.pageCount, documentChunkPages(scope.pipeline, inspection.metadata));
      signal.throwIfAborted(); // cancelled meanwhile: schedule nothing more
      // Before any page is read: its pages past the one reserved at submit, or `insufficient_credits`.
      await this.#engine.settings.credits.topUp(job, documentId, inspection.pageCount, scope.jobDoc.parentId !== undefined);
      // Before the document is marked inspected: a repeat after a crash finds the same children.
      const refused = await addChildDocuments(this.#engine, format, { ...scope, job, metadata: inspection.metadata }, signal);
      const info: DocumentInfo = { mediaType: format.mediaType, metadata: inspection.metadata, ...(refused.length > 0 ? { warnings: refused } : {}) };
      // Conditional: a cancel that landed while the file was read (in another process, before its
      // abort reached this one) keeps the document cancelled, and nothing more is scheduled.
      const inspected = await store.updateJobDocument(job.id, documentId, {
        status: 'running', pagesTotal: inspection.pageCount, chunksTotal: chunks.length, info: asJson(info),
        startedAt: scope.jobDoc.startedAt ?? Date.now(),
      }, { ifStatusIn: ['queued', 'running'] });
      if (inspected.status !== 'running') return;
      await this.#engine.emit(job, 'document.started', { documentId, stage: 'validate' });
    }
    signal.throwIfAborted();
    // The document's chunks take its place in the claim order (its `runAt`, a millisecond before
    // it for the documents added in the same millisecond after it): one document is read through
    // before the next is begun. Queued behind every document added meanwhile, they let the
    // inspections of a pile of small files run back to back, each a short task in a thread and
    // a longer one on the main thread, while the threads waited for their next chunk.
    const runAt = Math.min(task.runAt - 1, Date.now());
    const common = { jobId: job.id, priority: job.priority, maxAttempts: this.#engine.settings.maxAttempts, runAt };
    const traced = traceField(); // this inspect task is their parent span
    await queue.enqueueFlow(
      { ...common, id: taskIds.merge(job.id, documentId, retry), kind: TASK_KINDS.merge, payload: { documentId, ...traced } },
      chunks.map((planned) => {
        const { chunk, redoPages } = 'chunk' in planned ? planned : { chunk: planned, redoPages: undefined };
        return {
          ...common,
          id: taskIds.extract(job.id, documentId, chunk.index, retry),
          kind: TASK_KINDS.extract,
          payload: asJson({ documentId, chunk, ...(redoPages ? { redoPages } : {}), ...traced } satisfies ChunkPayload),
        };
      }),
    );
    await this.#engine.emit(job, 'stage.completed', { documentId, stage: 'chunk', message: `${chunks.length} chunk(s)` });
  }

  /**
   * A retry of a document that was read: its chunks without a succeeded checkpoint run again,
   * and a succeeded one with failed pages (a table's failed rows) runs again for those pages only.
   */
  async #chunksToRetry(jobId: string, documentId: string, plan: readonly ChunkRef[]): Promise<(ChunkRef | ChunkRedo)[]> {
    const { store } = this.#ports;
    const succeeded = new Set((await store.listChunkStates(jobId, documentId)).filter((r) => r.status === 'succeeded').map((r) => r.index));
    const chunks: (ChunkRef | ChunkRedo)[] = [];
    for (const chunk of plan) {
      if (!succeeded.has(chunk.index)) {
        chunks.push(chunk);
        continue;
      }
      // One checkpoint at a time: only its small part (the failures) is kept.
      const stored = await store.getChunkResult(jobId, documentId, chunk.index);
      const redoPages = stored?.output ? pagesToRedo(fromJson<StoredChunkOutput>(stored.output)) : [];
      if (redoPages.length > 0) chunks.push({ chunk, redoPages });
    }
    return chunks;
  }

  async #extract(task: LeasedTask, { documentId, chunk, redoPages }: ChunkPayload, signal: AbortSignal): Promise<void> {
    const { store } = this.#ports;
    // Its state only: a checkpoint's output can be large (a batch of rows), and is not needed here.
    const done = await store.getChunkState(task.jobId, documentId, chunk.index);
    let kept: ChunkOutput | undefined;
    let redo: ReadonlySet<number> | undefined;
    if (done?.status === 'succeeded') {
      if (!redoPages) {
        // Checkpointed: never redo a finished chunk. A run that died between its checkpoint and
        // saying so left no chunk.completed (followers, metrics): said now, once.
        await this.#sayCompleted(task, documentId, chunk);
        return;
      }
      // A retry of its failed pages: those that still fail (a repeat of this task redoes no page twice).
      const stored = await store.getChunkResult(task.jobId, documentId, chunk.index);
      if (!stored?.output) return;
      kept = unpackChunk(fromJson<StoredChunkOutput>(stored.output));
      redo = new Set(pagesToRedo(kept, redoPages));
      if (redo.size === 0) return;
    }
    const scope = await this.#scope(task, documentId);
    if (!scope) return;
    const started = Date.now();
    const format = this.#format(scope);
    // Overlap pages are read for the analyzers' context only: the chunk stores and owns its own.
    const overlap = scope.pipeline.overlapPages ?? 0;
    const { rowRules } = scope.pipeline;
    if (!redo && overlap === 0 && rowRules !== undefined && format.extractPacked) {
      // Rows with rules only: read, analysed and packed in one pool thread (`Pipeline.rowRules`).
      const range = { from: chunk.from, to: chunk.to };
      const packed = await inSpan('parse', { 'ream.pages.from': range.from, 'ream.pages.to': range.to }, () => format.extractPacked!(scope.path, range, rowRules, signal, readOf(scope)));
      await this.#checkpoint(scope, { documentId, chunk, attempt: task.attempts }, asJson(packed), started);
      return;
    }
    await this.#roomForReports(scope);
    const from = Math.max(0, chunk.from - overlap);
    const to = Math.min(scope.jobDoc.pagesTotal ?? chunk.to, chunk.to + overlap);
    const owned = (page: number): boolean => page > chunk.from && page <= chunk.to;
    // A redone chunk has its checkpoint: its pages count already.
    const progress = redo ? undefined : chunkProgress(async (pagesRead) => {
      await store.putChunkProgress(task.jobId, documentId, chunk.index, pagesRead);
      await this.#engine.emitProgress(scope.job);
    }, owned);
    let read: Extraction;
    try {
      read = await inSpan('parse', { 'ream.pages.from': from, 'ream.pages.to': to }, () => format.extract(scope.path, { from, to }, signal, { ...readOf(scope), inspected: inspectedMetadata(scope) }, progress?.onPageRead));
    } finally {
      await progress?.settle();
    }
    // Redoing pages: only they are analysed; the others' stored results stand.
    const extraction = redo ? onlyPages(read, redo) : read;
    // A range of which nothing could be read (a table's rows can each fail alone) has nothing to
    // analyze: no analyzer is asked about no text, and no model call is spent on it.
    const analyzers = extraction.pages.length > 0 ? scope.pipeline.analyzers : [];
    const context = this.#analyzeContext(scope, documentId, signal, chunk);
    if (task.attempts >= task.maxAttempts) context.finalAttempt = task.attempts;
    const { fields, analyses, failures } = await analyzeChunk(analyzers, extraction.pages, context);
    const fresh: ChunkOutput = {
      pages: extraction.pages.filter((page) => owned(page.page)),
      failures: [...extraction.failures, ...failures].filter((failure) => owned(failure.page)).sort((a, b) => a.page - b.page),
      ...ownedWarnings(extraction.warnings, owned),
      fields,
      ...(Object.keys(analyses).length > 0 ? { analyses } : {}),
    };
    const output = kept && redo ? replacePages(kept, fresh, redo) : fresh;
    await store.putJobArtifacts(task.jobId, renderedBlobs(fresh.analyses?.[REPORTS_ANALYZER]?.data));
    await this.#checkpoint(scope, { documentId, chunk, attempt: task.attempts }, asJson(packChunk(output)), started);
  }

  /**
   * Report files count toward the tenant's stored bytes: a tenant at its storage quota gets no
   * more rendered, and the chunk fails with `quota_exceeded` at once — waiting would not make
   * room; a retry of the job after the quota is raised (or files deleted) renders it.
   */
  async #roomForReports(scope: TaskScope): Promise<void> {
    if (!scope.pipeline.analyzers.some((analyzer) => analyzer.name === REPORTS_ANALYZER)) return;
    try {
      await this.#engine.settings.credits.checkStorage(scope.job.tenantId, 0);
    } catch (error) {
      const refused = toReamError(error);
      if (refused.code !== 'quota_exceeded') throw error;
      throw ReamError.nonRetryable('quota_exceeded', `no report rendered: ${refused.message}`, { ...(refused.details === undefined ? {} : { details: refused.details }) });
    }
  }

  /**
   * One report file, stored and recorded as the job's at once, within the tenant's storage quota
   * (its room reserved under the tenant's lock, uploaded outside it): batches that render at once
   * each see the others' files. Checked only before each batch, batches that began with room left all wrote
   * their reports (a quota passed by 296%). A file the tenant's stored bytes count already (a
   * batch rendered again, rows that render the same bytes) takes no room: it is not checked.
   */
  async #storeReportFile(scope: TaskScope, bytes: Buffer): Promise<{ sha256: string; size: number }> {
    const { blobs, store } = this.#ports;
    const { tenantId } = scope.job;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const counted = (): Promise<boolean> => store.tenantHasArtifact(tenantId, sha256);
    try {
      // Keyed by the job and the file's bytes: rendered again after a worker died mid-upload, it takes over that reservation.
      return await this.#engine.settings.credits.withReservedStorage(tenantId, bytes.length, async (reservation) => {
        // Written and recorded under the content's lock, as a document's bytes are: a job of the
        // same report deleted between the two found its blob unused and removed it, and this job's
        // report named a blob that was gone.
        return store.withContentLock(sha256, async () => {
          const stored = await blobs.put(Readable.from([bytes]));
          await store.putJobArtifacts(scope.job.id, [stored], reservation);
          return stored;
        });
      }, counted, `rsv:${scope.job.id}:${sha256}`);
    } catch (error) {
      const refused = toReamError(error);
      if (refused.code !== 'quota_exceeded') throw error;
      throw ReamError.nonRetryable('quota_exceeded', `report not stored: ${refused.message}`, { ...(refused.details === undefined ? {} : { details: refused.details }) });
    }
  }

  /** A chunk checkpointed by a run that died before saying so: its chunk.completed, once (a cancelled job gets none). */
  async #sayCompleted(task: LeasedTask, documentId: string, chunk: ChunkRef): Promise<void> {
    const { store } = this.#ports;
    if (await store.hasChunkEvent(task.jobId, 'chunk.completed', documentId, chunk.index)) return;
    const job = await store.getJob(task.jobId);
    if (!job || job.status === 'cancelled') return;
    await this.#engine.emit(job, 'chunk.completed', { documentId, chunk, stage: 'extract', attempt: task.attempts });
    await this.#engine.emitProgress(job);
  }

  /** Stores a chunk's succeeded checkpoint and says so (with the attempt of its task that made it). */
  async #checkpoint(scope: TaskScope, { documentId, chunk, attempt }: { documentId: string; chunk: ChunkRef; attempt: number }, output: JsonValue, started: number): Promise<void> {
    await this.#ports.store.putChunkResult({
      jobId: scope.job.id, documentId, index: chunk.index, from: chunk.from, to: chunk.to,
      status: 'succeeded', output, error: null, durationMs: Date.now() - started,
    });
    await this.#engine.emit(scope.job, 'chunk.completed', { documentId, chunk, stage: 'extract', attempt });
    await this.#engine.emitProgress(scope.job);
  }

  async #merge(task: LeasedTask, { documentId }: DocumentPayload, signal: AbortSignal): Promise<void> {
    const scope = await this.#scope(task, documentId);
    if (!scope) {
      // Finished already (a repeat): the job may still need closing if the first run died after
      // storing the result but before closing it.
      await this.#engine.finalizeIfDone(task.jobId);
      return;
    }
    const { store, search } = this.#ports;
    const plan = planChunks(scope.jobDoc.pagesTotal ?? 0, inspectedChunkPages(scope.pipeline, scope.jobDoc));
    const keepPages = keepsPagesInResult(scope.pipeline, scope.jobDoc);
    const indexInParts = scope.pipeline.index && !keepPages;
    // Clears the pages only (an empty replacement): removeDocument would also drop what other
    // jobs recorded of this document for filtering.
    if (indexInParts) await search.indexDocument(scope.job.tenantId, documentId, []);
    // Chunk by chunk: only the merge's small parts are held, never every chunk's output at once.
    const merger = new ChunkMerger(keepPages);
    for (const ref of plan) {
      // Only a merge that keeps or indexes the pages reads the rows (a packed checkpoint's body).
      const read = keepPages || indexInParts ? undefined : { withoutBody: true };
      const output = merger.add((await store.getChunkResult(task.jobId, documentId, ref.index, read)) ?? missingChunk(ref));
      if (indexInParts && output) await search.appendPages(scope.job.tenantId, documentId, unpackChunk(output).pages);
      signal.throwIfAborted();
    }
    const merged = merger.result();
    const documentContext = this.#analyzeContext(scope, documentId, signal);
    if (task.attempts >= task.maxAttempts) documentContext.finalAttempt = task.attempts;
    const { fields, analysis, usage, warnings: analysisWarnings } = await analyzeDocument(scope.pipeline.analyzers, merged, documentContext);
    signal.throwIfAborted();
    const info = fromJson<DocumentInfo | null>(scope.jobDoc.info);
    const warnings = [...(info?.warnings ?? []), ...merged.warnings, ...analysisWarnings].sort((a, b) => a.page - b.page);
    const readable = merged.pagesRead > 0 || merged.failedPages.length === 0;
    // A warned page (an image nobody read, an attachment refused) makes a partial success: never
    // a plain "succeeded" with something silently left out.
    const status = !readable ? 'failed' : merged.failedPages.length > 0 || warnings.length > 0 ? 'partially_succeeded' : 'succeeded';
    const firstFailure = merged.failedPages[0];
    const error = !readable && firstFailure
      ? { code: firstFailure.code, message: `no page could be read: ${firstFailure.message}` }
      : null;
    if (scope.pipeline.index && readable && keepPages) await search.indexDocument(scope.job.tenantId, documentId, merged.pages);
    // Before the document ends, so a search filtered by this job finds it once the job is done.
    if (scope.pipeline.index && readable) {
      await search.recordResult(scope.job.tenantId, documentId, { jobId: scope.job.id, mediaType: info?.mediaType ?? scope.doc.mediaType, fields });
    }
    const output: DocumentOutput = {
      ...outputBase(scope.jobDoc, scope.doc),
      mediaType: info?.mediaType ?? scope.doc.mediaType,
      status, pageCount: scope.jobDoc.pagesTotal, metadata: info?.metadata ?? null,
      pages: merged.pages, fields, ...(keepPages ? {} : { pagesOmitted: true as const }), failedPages: merged.failedPages, error,
      ...(warnings.length > 0 ? { warnings } : {}),
      ...(Object.keys(analysis).length > 0 ? { analysis } : {}),
      ...(usage.calls + usage.cachedCalls > 0 ? { usage } : {}),
    };
    // Before the document ends: deleting the job then finds every report blob it must remove.
    const artifacts = reportBlobs(output);
    await store.putJobArtifacts(scope.job.id, artifacts).catch(async (error: unknown) => {
      if (await store.getJob(scope.job.id)) throw error; // else: its rows went with the job
    });
    // Listed and found by name from here on (GET /v1/jobs/:id/artifacts), in the order documents end;
    // the files of a job's documents that ended under an older ream are recorded first, keeping their names.
    const recordFiles = async (): Promise<void> => {
      await recordEarlierFiles(store, scope.job.id, () => this.#engine.results(scope.job.id));
      await store.putJobReportFiles(scope.job.id, output.documentId, reportFiles(output));
    };
    await recordFiles().catch(async (error: unknown) => {
      if (await store.getJob(scope.job.id)) throw error;
    });
    if (!(await store.getJob(scope.job.id))) {
      // Deleted while this merge ran (in another process): what it indexed and rendered after
      // the deletion's own clean-up goes too; nothing is left naming a job that is gone.
      await this.#engine.forgetDeletedJob(scope.job.tenantId, scope.job.id, artifacts.map((artifact) => artifact.sha256));
      return;
    }
    await this.#finishDocument(scope.job, output);
    await scope.pipeline.onComplete?.(output);
  }

  #analyzeContext(scope: TaskScope, documentId: string, signal: AbortSignal, chunk?: ChunkRef): AnalyzeContext {
    const { analysis, blobs } = this.#ports;
    return {
      signal, documentId, jobId: scope.job.id, tenantId: scope.job.tenantId, sha256: scope.doc.sha256, blobs, source: scope.jobDoc.source,
      storeFile: (bytes) => this.#storeReportFile(scope, bytes),
      ...(chunk ? { chunk: { index: chunk.index, from: chunk.from, to: chunk.to } } : {}),
      ...(analysis ? { store: analysis } : {}),
    };
  }

  async #failDocument(jobId: string, documentId: string, error: ReamError): Promise<void> {
    const { store } = this.#ports;
    const job = await store.getJob(jobId);
    const jobDoc = await store.getJobDocument(jobId, documentId);
    const doc = await store.getDocument(documentId, { deleted: true });
    if (!job || !jobDoc || !doc || TERMINAL_JOB_STATUSES.includes(job.status) || TERMINAL_DOCUMENT_STATUSES.includes(jobDoc.status)) return;
    const status = error.code === 'cancelled' ? 'cancelled' : 'failed';
    await this.#finishDocument(job, {
      ...outputBase(jobDoc, doc),
      mediaType: fromJson<DocumentInfo | null>(jobDoc.info)?.mediaType ?? null,
      status, pageCount: jobDoc.pagesTotal, metadata: fromJson<DocumentInfo | null>(jobDoc.info)?.metadata ?? null,
      pages: [], fields: {}, failedPages: [], error: error.toJSON(),
    });
  }

  /** The result is stored before the status changes, so a finished document always has one. */
  async #finishDocument(job: JobRecord, output: DocumentOutput): Promise<void> {
    const { store } = this.#ports;
    const current = await store.getJobDocument(job.id, output.documentId);
    if (!current || TERMINAL_DOCUMENT_STATUSES.includes(current.status)) return; // cancelled or finished meanwhile
    await store.putDocumentResult({ jobId: job.id, documentId: output.documentId, output: asJson(output) });
    const failed = output.status === 'failed' || output.status === 'cancelled';
    // The status and its event in one step: the job closes only once every document has ended,
    // so its end comes after every document's event, and no crash leaves an end unsaid.
    await this.#engine.emitDocumentEnd(job, { jobId: job.id, documentId: output.documentId, status: output.status, error: output.error, finishedAt: Date.now() },
      failed ? 'document.failed' : 'document.completed', {
        documentId: output.documentId,
        stage: 'complete',
        ...(output.error ? { error: output.error } : {}),
      }, current.pagesTotal === null);
    await this.#engine.finalizeIfDone(job.id);
  }

  #format(scope: TaskScope): DocumentFormat {
    const mediaType = fromJson<DocumentInfo | null>(scope.jobDoc.info)?.mediaType;
    const format = mediaType === undefined ? undefined : this.#ports.formats.byMediaType(mediaType);
    if (!format) throw ReamError.nonRetryable('internal', `no reader for ${mediaType ?? 'an uninspected document'}`);
    return format;
  }
}

/**
 * A document's stored bytes that cannot be had, said as a tenant may read it: the blob store's
 * own words name its bucket and keys (or folders). The code, and whether to retry, stay.
 */
function storedBytesError(error: unknown): unknown {
  if (!(error instanceof ReamError)) return error;
  if (error.code === 'not_found') return ReamError.nonRetryable('io_error', 'the stored bytes of this document are missing', { cause: error });
  return new ReamError(error.code, `the stored bytes of this document could not be read (${error.code})`, { cause: error, retryable: error.retryable });
}

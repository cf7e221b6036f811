import type { Readable } from 'node:stream';
import { ReamError } from '../errors.ts';
import { answersWithin } from './answers-within.ts';
import type { DocumentRecord, JobRecord } from '../store/port.ts';
import { DEFAULT_TENANT } from '../store/port.ts';
import type { CreateJobInput, DocumentToAdd, Engine } from './engine.ts';
import { checkJobRepeat, refuseChangedRepeat } from './idempotent-repeat.ts';
import { openFileStream } from './open-file.ts';
import { removeDocument } from './document-removal.ts';
import { storeDocument } from './store-document.ts';
import { documentOfUpload, type FindUploadInProgress, type UploadRecords } from './upload-records.ts';

/** One file of a job: read from a path, from a stream, or stored already (a document, a finished upload). */
export type JobFile =
  /** A file on disk, named `source` in results (default: the path). */
  | { path: string; source?: string }
  /** Bytes streaming in (an upload), named `name` in results; consumed, never buffered whole. */
  | { stream: Readable | AsyncIterable<Uint8Array>; name: string }
  /** A document of the job's tenant stored already, named `source` in results (default: its name). */
  | { documentId: string; source?: string }
  /** A finished tus upload of the job's tenant, named as it was uploaded. */
  | { uploadId: string };

export interface SubmitJobInput extends CreateJobInput {
  /** At least one. Read in order, only once the job's fields are accepted and the key is new. */
  files: Iterable<JobFile> | AsyncIterable<JobFile>;
  /** Finds uploads still receiving bytes, so a job over one is `upload_incomplete` rather than `not_found`. */
  findUploadInProgress?: FindUploadInProgress;
  /** Called with each document stored from a path or stream (e.g. to count uploaded bytes). */
  onStored?: (doc: DocumentRecord) => void;
  /**
   * Bytes the files will bring, when known before they are read (a request's Content-Length):
   * checked against the tenant's storage quota with what it stores already, before any is stored.
   */
  incomingBytes?: number;
}

/** How long the queue has to answer before a job is made (a healthy one answers in milliseconds), in ms. */
const QUEUE_PROBE_MS = 2_000;
/** A job id no task has: its counts are one cheap read. */
const QUEUE_PROBE_ID = 'submit-probe';

export interface SubmittedJob {
  job: JobRecord;
  /** True when `key` named an existing job: it is answered and the files were not read. */
  repeat: boolean;
}

/**
 * The one way a job comes in (library `submit`, multipart and JSON `POST /v1/jobs`):
 * 1. its fields are checked (`validation_failed`; a webhook's host is resolved, job limits apply);
 * 2. a repeat of an idempotency key answers the existing job, its files unread (a caller
 *    holding a request body drains it);
 * 3. every file is stored (content sniffed) or looked up (tenant-checked: `not_found`,
 *    `upload_incomplete`);
 * 4. quotas and credits: a tenant at its storage or concurrent-jobs quota is refused before any
 *    file is read; once the documents are known, the job's estimate is checked against the
 *    pages-per-day quota and the balance, and reserved when the job is made (`quota_exceeded`,
 *    `insufficient_credits`; a job refused at the reservation is removed);
 * 5. the queue must answer (`unavailable` within 2 s, no job made, if it does not);
 * 6. the job is created and all its documents attached at once (it cannot end before the last is
 *    in), which schedules them. If attaching fails (the queue refusing its tasks) the job is
 *    deleted and the documents this request stored new are removed: the request fails as if
 *    no job was made (`unavailable` for a queue's own error); a failure before it makes no job
 *    (stored files stay, as documents).
 */
export async function submitJob(engine: Engine, uploads: UploadRecords, input: SubmitJobInput): Promise<SubmittedJob> {
  const { files, findUploadInProgress, onStored, incomingBytes, ...jobInput } = input;
  const tenantId = jobInput.tenantId ?? DEFAULT_TENANT;
  // Resolved once: the job is created as checked here (a webhook's name is not looked up twice).
  const checked = await engine.checkJob(jobInput);
  if (jobInput.key !== undefined) {
    // Checked before any file is read; `createJob` is idempotent by (tenant, key) all the same.
    const existing = await engine.ports.store.findJobByKey(tenantId, jobInput.key);
    if (existing) {
      checkJobRepeat(existing, jobInput.key, jobInput, checked);
      await checkRepeatFiles(engine, uploads, existing, jobInput.key, tenantId, files);
      return { job: existing, repeat: true };
    }
  }
  const { credits } = engine.settings;
  // Quotas first: a tenant at its storage or concurrent-jobs limit has nothing read or stored.
  await credits.checkIntake(tenantId, incomingBytes);
  const docs: DocumentToAdd[] = [];
  // Their records, to reserve the pages an estimate counted (per content hash) rather than one each.
  const records: DocumentRecord[] = [];
  // Documents this request stored new (none of the tenant's had these bytes): a job refused at
  // its admission takes them back, or they would fill its storage with nothing naming them.
  const storingFrom = Date.now();
  const fresh: DocumentRecord[] = [];
  const stored = (doc: DocumentRecord, source: string): void => {
    if (doc.createdAt >= storingFrom) fresh.push(doc);
    onStored?.(doc);
    docs.push({ documentId: doc.id, source });
    records.push(doc);
  };
  for await (const file of files) {
    if ('path' in file) {
      const source = file.source ?? file.path;
      stored(await storeDocument(engine, await openFileStream(file.path), source, { tenantId, onRefuse: 'keep', storageQuota: true }), source);
    } else if ('stream' in file) {
      stored(await storeDocument(engine, file.stream, file.name, { tenantId, onRefuse: 'keep', storageQuota: true }), file.name);
    } else if ('documentId' in file) {
      const doc = await engine.ports.store.getDocument(file.documentId);
      if (!doc || doc.tenantId !== tenantId) throw ReamError.nonRetryable('not_found', `no document ${file.documentId}`);
      docs.push({ documentId: doc.id, ...(file.source === undefined ? {} : { source: file.source }) });
      records.push(doc);
    } else {
      const { documentId, name } = await documentOfUpload(uploads, tenantId, file.uploadId, findUploadInProgress);
      docs.push({ documentId, source: name });
      const doc = await engine.ports.store.getDocument(documentId);
      if (doc) records.push(doc);
    }
  }
  if (docs.length === 0) throw ReamError.nonRetryable('validation_failed', 'a job needs at least one file');
  const pipeline = engine.buildPipeline(jobInput.pipeline ?? 'extract', checked.options);
  // Documents without a record (none in practice) are reserved as a page each.
  const pages = engine.pageCounts.reservedPages(records, pipeline) + (docs.length - records.length);
  // Admitted, made and given its documents one at a time per tenant with job quotas: submits
  // sent at once each count the others' jobs and pages.
  // A job whose tasks cannot be queued would only be cancelled, slowly (each queue command waits
  // out its timeout): a queue that does not answer now refuses the request before a job is made.
  await answersWithin('the queue', () => engine.ports.queue.counts(QUEUE_PROBE_ID), QUEUE_PROBE_MS);
  return credits.withinJobQuotas(tenantId, async () => {
    const estimate = await credits.admit({ tenantId, documents: docs.length, pages, options: checked.options, newJob: true }).catch(async (error: unknown) => {
      await forgetDocuments(engine, fresh);
      throw error;
    });
    // Announced once its documents are attached: `job.queued` then counts them.
    const { job, created } = await engine.createOrFindJob({ ...jobInput, tenantId }, checked, false);
    // The same key sent twice at once: the other request made the job and attaches its files.
    // This one answers it as a repeat, and must neither reserve for it, nor add to it, nor (on a
    // failure here) cancel or delete it.
    if (!created) return { job, repeat: true };
    try {
      // Exactly once per job (its key); a spend racing this one past the balance refuses it here.
      await credits.reserve(job, estimate, docs.length);
    } catch (error) {
      await engine.deleteJob(job.id).catch(() => undefined);
      throw error;
    }
    try {
      await engine.addDocuments(job.id, docs, true);
    } catch (error) {
      // Half made (its tasks not all queued): removed, with what this request stored new, so no
      // broken job is listed and its key is free for the request sent again.
      await engine.deleteJob(job.id).catch(() => undefined);
      await forgetDocuments(engine, fresh);
      throw notQueued(error);
    }
    return { job: (await engine.ports.store.getJob(job.id)) ?? job, repeat: false };
  });
}

/**
 * A repeat over stored documents and finished uploads names the same documents as the first
 * request, else it is another request (`idempotency_conflict`): a client reusing a key across
 * batches lost a batch without a word. Files still to be read (paths, streams) are not read for
 * this: their content is known only once stored.
 */
async function checkRepeatFiles(
  engine: Engine, uploads: UploadRecords, existing: JobRecord, key: string, tenantId: string, files: SubmitJobInput['files'],
): Promise<void> {
  if (!Array.isArray(files)) return;
  const refs = files as JobFile[];
  if (!refs.every((file) => 'documentId' in file || 'uploadId' in file)) return;
  const asked = new Set<string>();
  for (const file of refs) {
    if ('documentId' in file) asked.add(file.documentId);
    else if ('uploadId' in file) asked.add((await documentOfUpload(uploads, tenantId, file.uploadId)).documentId);
  }
  const had = new Set((await engine.ports.store.listJobDocuments(existing.id)).filter((doc) => doc.parentId === undefined).map((doc) => doc.documentId));
  const same = asked.size === had.size && [...asked].every((id) => had.has(id));
  refuseChangedRepeat(key, `job ${existing.id}`, same ? [] : ['documents']);
}

/**
 * A failure to attach a new job's documents: a ReamError as it is; anything else (the queue's
 * client failing, e.g. Redis refusing writes at its maxmemory) `unavailable`, to be sent again.
 */
function notQueued(error: unknown): unknown {
  if (error instanceof ReamError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new ReamError('unavailable', `the queue did not take the job's tasks (${reason}); no job was made, send the request again`, { cause: error });
}

/**
 * Removes documents this request stored new, each unless a job names it or another request
 * stored the same bytes again meanwhile (answered with this very document): then it stays.
 */
async function forgetDocuments(engine: Engine, docs: readonly DocumentRecord[]): Promise<void> {
  for (const doc of docs) await removeDocument(engine.ports, doc.id, doc.tenantId, doc.createdAt).catch(() => undefined);
}

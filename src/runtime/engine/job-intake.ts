import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore, PutOptions } from '../../blobs/port.ts';
import { ReamError } from '../../errors.ts';
import { mediaTypeByName } from '../../formats/sniff.ts';
import { documentIdOf } from '../../store/document-store.ts';
import { DEFAULT_TENANT, TERMINAL_DOCUMENT_STATUSES, type DocumentRecord, type JobRecord, type NewJobDocument, type Store } from '../../store/port.ts';
import type { JobLifecycle } from './job-lifecycle.ts';

export interface FileInput {
  /** Path to read the bytes from. */
  path: string;
  /** What to call it in results (default: the path). */
  source?: string;
}

/** A stored document to add to a job, named `source` in results (default: its stored name). */
export interface DocumentToAdd {
  documentId: string;
  source?: string;
  /** The job's document this one was taken out of (an e-mail's attachment). */
  parentId?: string;
}

export interface AddedDocument {
  source: string;
  documentId: string;
  sha256: string;
}

export interface IntakeParts {
  store: Store;
  blobs: BlobStore;
  lifecycle: JobLifecycle;
  /** Enqueues documents' first tasks in the job's current retry generation. */
  schedule(job: JobRecord, documentIds: readonly string[]): Promise<void>;
  /** Holds credits for documents added after the job's submit, or refuses them (`insufficient_credits`). */
  reserveAdded(job: JobRecord, documentIds: readonly string[]): Promise<void>;
}

/** Documents in: stored (content-addressed, per tenant), attached to jobs, scheduled. */
/**
 * How a stored document's bytes, counted once they have all come, are published (e.g. within a
 * tenant's storage quota): `publish` gets the storage reservation that holds their room, if any,
 * to release as it records them.
 */
export type PublishWithin = (bytes: number, publish: (reservation: string | undefined) => Promise<void>) => Promise<void>;

const publishAtOnce: PublishWithin = (_bytes, publish) => publish(undefined);

export interface StoreOptions extends PutOptions {
  /** Default: one picked by the name's extension. */
  mediaType?: string;
  /** Wraps the publishing of the bytes (placing the blob, recording the document). Default: at once. */
  within?: PublishWithin;
}

export class JobIntake {
  readonly #parts: IntakeParts;

  constructor(parts: IntakeParts) {
    this.#parts = parts;
  }

  /**
   * Stores bytes (streamed into the blob store, never buffered whole) as the tenant's document
   * named `basename(name)`, without adding it to any job. The same content is one document per
   * tenant. `mediaType` defaults to one picked by the name's extension.
   */
  async storeDocument(
    source: Readable | AsyncIterable<Uint8Array>,
    name: string,
    tenantId: string = DEFAULT_TENANT,
    options: StoreOptions = {},
  ): Promise<DocumentRecord> {
    const { mediaType, within = publishAtOnce, ...put } = options;
    const { store, blobs } = this.#parts;
    const base = basename(name);
    let stored: DocumentRecord | undefined;
    // Placing the blob and recording its document hold the content's lock, as deleting a
    // document's blob does (see removeDocument): the record never points at a removed blob.
    await blobs.put(source, {
      ...put,
      publish: async (blob, place) => {
        const id = documentIdOf(tenantId, blob.sha256);
        // Bytes the tenant holds already add nothing to what it stores: no quota to pass.
        const wrap = (await store.getDocument(id)) === undefined ? within : publishAtOnce;
        await wrap(blob.size, (reservation) => store.withContentLock(blob.sha256, async () => {
          await place();
          stored = await store.putDocument(
            { id, tenantId, sha256: blob.sha256, name: base, size: blob.size, mediaType: mediaType ?? mediaTypeByName(base) },
            Date.now(),
            reservation,
          );
        }));
      },
    });
    if (!stored) throw new Error('the blob store did not publish the blob');
    return stored;
  }

  /** Stores what `open` reads and adds it to the job; `open` is called only once the job is known to take it. */
  async add(jobId: string, open: () => Readable | Promise<Readable>, source: string): Promise<AddedDocument> {
    const job = await this.#takingDocuments(jobId);
    const doc = await this.storeDocument(await open(), source, job.tenantId);
    const added = { source, documentId: doc.id, sha256: doc.sha256 };
    await this.#attach(jobId, [added]);
    return added;
  }

  /**
   * Adds documents stored already to the job at once: all are attached before any is scheduled,
   * so the job cannot end between two of them. Each must belong to the job's tenant, else
   * `not_found` and none is added. A document named twice, or in the job already, keeps its
   * first name and place.
   */
  async addDocuments(jobId: string, docs: readonly DocumentToAdd[], announceQueued = false): Promise<AddedDocument[]> {
    const job = await this.#takingDocuments(jobId);
    const added: AddedDocument[] = [];
    const parents = new Map<string, string>();
    for (const { documentId, source, parentId } of docs) {
      const doc = await this.#parts.store.getDocument(documentId);
      if (!doc || doc.tenantId !== job.tenantId) throw ReamError.nonRetryable('not_found', `no document ${documentId}`);
      added.push({ source: source ?? doc.name, documentId: doc.id, sha256: doc.sha256 });
      if (parentId !== undefined) parents.set(doc.id, parentId);
    }
    await this.#attach(jobId, added, parents, announceQueued);
    return added;
  }

  /**
   * Attaches, then tells the lifecycle (which bumps the job's `documentsSeq` and reopens it if it
   * had ended), then schedules. No lock: the job is read afresh (it may have been cancelled while
   * the bytes streamed in), and a cancel that lands between that read and the insert is seen
   * afterwards — cancel changes the status before it lists the documents to cancel, so either it
   * lists ours or we see its status and cancel them ourselves. Two attaches racing on one job may
   * give documents the same ordinal; they then come back in id order among themselves.
   */
  async #attach(jobId: string, docs: readonly AddedDocument[], parents: ReadonlyMap<string, string> = new Map(), announceQueued = false): Promise<void> {
    const { store, lifecycle } = this.#parts;
    const taking = await this.#takingDocuments(jobId);
    // Repeats are skipped by asking for these documents only, and the ordinal comes from the
    // index: a job that is given its files one at a time never reads all it holds per file.
    let ordinal = await store.nextOrdinal(jobId);
    const seen = new Set<string>();
    const rows: NewJobDocument[] = [];
    for (const { documentId, source } of docs) {
      if (seen.has(documentId)) continue;
      seen.add(documentId);
      if (await store.getJobDocument(jobId, documentId)) continue;
      const parentId = parents.get(documentId);
      rows.push({ jobId, documentId, ordinal: ordinal++, source, ...(parentId === undefined ? {} : { parentId }) });
    }
    if (rows.length === 0) return;
    // The submit's own documents (`announceQueued`) were reserved with the job; those found inside
    // another (children) reserve their pages once inspected; others are held a page each now.
    if (!announceQueued) await this.#parts.reserveAdded(taking, rows.filter((row) => row.parentId === undefined).map((row) => row.documentId));
    await store.addJobDocuments(rows);
    const job = await lifecycle.documentsAdded(jobId);
    if (!job) throw ReamError.nonRetryable('not_found', `no job ${jobId}`);
    if (job.status === 'cancelled') {
      const now = Date.now();
      for (const { documentId } of rows) {
        const current = await store.getJobDocument(jobId, documentId);
        if (current && !TERMINAL_DOCUMENT_STATUSES.includes(current.status)) {
          await store.updateJobDocument(jobId, documentId, { status: 'cancelled', finishedAt: now });
        }
      }
      refuseCancelled(job);
    }
    // A job's first documents (documentsSeq 1): before any is scheduled, so before `job.started`.
    if (announceQueued && job.documentsSeq === 1) await lifecycle.announceQueued(job);
    await this.#parts.schedule(job, rows.map((row) => row.documentId));
  }

  async #takingDocuments(jobId: string): Promise<JobRecord> {
    const job = await this.#parts.store.getJob(jobId);
    if (!job) throw ReamError.nonRetryable('not_found', `no job ${jobId}`);
    refuseCancelled(job);
    return job;
  }
}

function refuseCancelled(job: JobRecord): void {
  if (job.status === 'cancelled') throw ReamError.nonRetryable('validation_failed', `job ${job.id} is cancelled: it takes no more files`);
}

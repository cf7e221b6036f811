import { toReamError } from '../errors.ts';
import { turnsEvery } from '../event-loop-turns.ts';
import type { DocumentRecord, JobRecord, Store } from '../store/port.ts';
import type { RemovedDocument } from './document-removal.ts';
import { uploadExpired, uploadExpiry, type TenantHours, type UnfinishedUpload, type UnfinishedUploads, type UploadExpiry } from './upload-expiry.ts';

const DAY_MS = 24 * 3600_000;
/** Records removed per store query; a sweep goes on until none is left. */
const BATCH = 100;

/**
 * Longest a sweep holds the event loop between two turns, in ms: an embedded store (SQLite)
 * answers on this thread at once, and a sweep of many records held every request until its end.
 */
const TURN_MS = 10;

/** Days per tenant, or null to keep that tenant's records until deleted. */
export type TenantDays = Readonly<Record<string, number | null>>;

/**
 * How long things are kept. A finished job goes with everything recorded for it: its results,
 * chunk checkpoints and events. A stored document goes once no job uses it, with its search
 * entries and, unless another document has the same content, its blob. An unfinished tus upload
 * goes once its tenant's upload lifetime has passed since it was created (default 24 hours).
 */
export interface RetentionSettings {
  /** Days a job is kept after it ended; undefined keeps jobs until deleted. */
  jobsDays?: number;
  /** Per tenant, in place of `jobsDays`. */
  tenants?: TenantDays;
  /** Days a stored document no job uses is kept after it was stored; undefined keeps documents until deleted. */
  documentsDays?: number;
  /** Per tenant, in place of `documentsDays`. */
  documentTenants?: TenantDays;
  /**
   * Hours an unfinished tus upload is kept after its creation (bytes and metadata; a finished
   * upload is a document). Default 24, or the server's `uploadExpiryMs`.
   */
  uploadsHours?: number;
  /** Per tenant, in place of `uploadsHours`. */
  uploadTenants?: TenantHours;
  /** How often a sweep runs, in ms. Default one hour. */
  intervalMs?: number;
}

/** A server's unfinished uploads, swept with their tenants' lifetimes. */
export interface AttachUploadsOptions {
  /** The lifetime of uploads of tenants without their own, in ms, in place of `uploadsHours`. */
  defaultMs?: number;
  /** How often these uploads are swept on their own, in ms (besides every retention sweep). */
  intervalMs: number;
}

/** How soon after its start a process sweeps the first time. */
const FIRST_SWEEP_MS = 60_000;

/** A server's uploads as the sweeper holds them: detached on the server's close. */
export interface AttachedUploads {
  detach(): void;
  /**
   * Removes this upload now if it is past its tenant's lifetime, audited as a sweep would
   * (a request for it came before the next sweep); answers whether it did.
   */
  removeIfExpired(upload: UnfinishedUpload): Promise<boolean>;
}

/** What one sweep removed. */
export interface RetentionReport {
  jobs: number;
  documents: number;
  /** Blobs deleted with their documents (content no other document has). */
  blobs: number;
  /** Bytes of the documents removed. */
  bytes: number;
  /** Unfinished tus uploads removed. */
  uploads: number;
  /** Bytes those uploads had received. */
  uploadBytes: number;
}

interface SweepParts {
  store: Pick<Store, 'listJobsFinishedBefore' | 'listUnusedDocumentsBefore' | 'appendAudit'>;
  /** Deletes a job the way `DELETE /v1/jobs/:id` does. */
  deleteJob(jobId: string): Promise<void>;
  /** Deletes a document the way `DELETE /v1/documents/:id` does. */
  removeDocument(documentId: string): Promise<RemovedDocument>;
}

type Scope = { tenantId?: string; exceptTenants?: readonly string[] };

/** Warns of a record the sweep could not remove for a reason other than `expected` ones (the database refusing, timing out). */
function notRemoved(kind: 'job' | 'document', id: string, tenantId: string, error: unknown, expected: readonly string[]): void {
  const failure = toReamError(error);
  if (expected.includes(failure.code)) return;
  process.emitWarning(`ream retention: ${kind} ${id} of tenant ${tenantId} not removed (${failure.code}: ${failure.message}); the next sweep tries again`);
}

/**
 * Removes finished jobs, then stored documents no job uses, past their tenant's retention, and
 * writes each removal to the audit log (`retention.delete`, subject `retention`). Jobs go first,
 * so a document whose last job expires goes in the same sweep. Several server instances may
 * sweep at once: what another one removed first is skipped.
 */
export class RetentionSweeper {
  readonly #parts: SweepParts;
  readonly #settings: RetentionSettings;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RetentionReport> | undefined;
  #first: NodeJS.Timeout | undefined;
  /** Set by `stop`: a sweep under way ends after the job it is removing. */
  #stopping = false;
  readonly #uploads = new Map<UnfinishedUploads, UploadExpiry>();

  constructor(parts: SweepParts, settings: RetentionSettings) {
    this.#parts = parts;
    this.#settings = settings;
  }

  start(): void {
    const sweep = (): void => void this.sweep().catch((error: unknown) => process.emitWarning(`ream retention: sweep failed: ${String(error)}`));
    const intervalMs = this.#settings.intervalMs ?? 3600_000;
    this.#timer = setInterval(sweep, intervalMs);
    this.#timer.unref();
    // A first sweep soon after the start: a server restarted more often than the interval
    // (redeploys) would otherwise never sweep at all.
    this.#first = setTimeout(sweep, Math.min(FIRST_SWEEP_MS, intervalMs));
    this.#first.unref();
  }

  /** How long unfinished uploads live per tenant, with a server's own default in place of `uploadsHours`. */
  uploadExpiry(defaultMs?: number): UploadExpiry {
    return uploadExpiry(this.#settings, defaultMs);
  }

  /**
   * Sweeps `uploads` with every retention sweep and every `intervalMs` on its own, removing
   * unfinished ones past their tenant's lifetime. Answers the function that detaches them.
   */
  attachUploads(uploads: UnfinishedUploads, options: AttachUploadsOptions): AttachedUploads {
    const expiry = this.uploadExpiry(options.defaultMs);
    this.#uploads.set(uploads, expiry);
    const timer = setInterval(() => {
      const report = emptyReport();
      this.#removeUploads(uploads, expiry, Date.now(), report).catch((error: unknown) => process.emitWarning(`ream retention: upload sweep failed: ${String(error)}`));
    }, options.intervalMs);
    timer.unref();
    return {
      detach: () => {
        clearInterval(timer);
        this.#uploads.delete(uploads);
      },
      removeIfExpired: (upload) => this.#removeUpload(uploads, upload, expiry, Date.now(), emptyReport()),
    };
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearInterval(this.#timer);
    clearTimeout(this.#first);
    await this.#running?.catch(() => undefined);
  }

  /** One sweep as of `now`; answers what it removed. One at a time per process. */
  sweep(now = Date.now()): Promise<RetentionReport> {
    this.#running ??= this.#sweep(now).finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #sweep(now: number): Promise<RetentionReport> {
    const report = emptyReport();
    for (const [scope, days] of scopes(this.#settings.tenants, this.#settings.jobsDays)) {
      report.jobs += await this.#removeJobs(scope, now, days);
    }
    for (const [scope, days] of scopes(this.#settings.documentTenants, this.#settings.documentsDays)) {
      await this.#removeDocuments(scope, now, days, report);
    }
    for (const [uploads, expiry] of this.#uploads) await this.#removeUploads(uploads, expiry, now, report);
    return report;
  }

  async #removeUploads(uploads: UnfinishedUploads, expiry: UploadExpiry, now: number, report: RetentionReport): Promise<void> {
    for await (const upload of uploads.list()) await this.#removeUpload(uploads, upload, expiry, now, report);
  }

  /** Removes and audits one upload if it is past its lifetime as of `now`. */
  async #removeUpload(uploads: UnfinishedUploads, upload: UnfinishedUpload, expiry: UploadExpiry, now: number, report: RetentionReport): Promise<boolean> {
    if (!uploadExpired(upload, expiry, now)) return false;
    try {
      await uploads.remove(upload.id);
    } catch {
      return false; // finished or removed meanwhile (another instance, the client's DELETE)
    }
    report.uploads++;
    report.uploadBytes += upload.offset;
    await this.#audit(upload.tenantId ?? '', upload.id, {
      kind: 'upload',
      createdAt: upload.createdAt ?? null,
      keptHours: expiry.ttlMs(upload.tenantId) / 3600_000,
      offset: upload.offset,
      size: upload.size ?? null,
    });
    return true;
  }

  async #removeJobs(scope: Scope, now: number, days: number): Promise<number> {
    const before = now - days * DAY_MS;
    const letOthersIn = turnsEvery(TURN_MS);
    let removed = 0;
    // Page after page past the last one listed: jobs that could not go (each warned of) are not
    // listed again, so the sweep ends, and the jobs after them still go (a full page of them at
    // the front stopped it there, sweep after sweep); the next sweep tries them again.
    let after: { finishedAt: number; id: string } | undefined;
    for (;;) {
      const jobs = await this.#parts.store.listJobsFinishedBefore({ ...scope, before, limit: BATCH, ...(after === undefined ? {} : { after }) });
      for (const job of jobs) {
        // A process stopping waits for no more of them (each can take the statement timeout to fail).
        if (this.#stopping) return removed;
        if (await this.#removeJob(job, days)) removed++;
        await letOthersIn();
      }
      const last = jobs.at(-1);
      if (jobs.length < BATCH || last?.finishedAt == null) return removed;
      after = { finishedAt: last.finishedAt, id: last.id };
    }
  }

  async #removeJob(job: JobRecord, days: number): Promise<boolean> {
    try {
      await this.#parts.deleteJob(job.id);
    } catch (error) {
      // Removed meanwhile (another instance, or a user) is no failure; anything else is said.
      notRemoved('job', job.id, job.tenantId, error, ['not_found']);
      return false;
    }
    await this.#audit(job.tenantId, job.id, { finishedAt: job.finishedAt, keptDays: days });
    return true;
  }

  async #removeDocuments(scope: Scope, now: number, days: number, report: RetentionReport): Promise<void> {
    const before = now - days * DAY_MS;
    const letOthersIn = turnsEvery(TURN_MS);
    for (;;) {
      const docs = await this.#parts.store.listUnusedDocumentsBefore({ ...scope, before, limit: BATCH });
      let removed = 0;
      for (const doc of docs) {
        if (await this.#removeDocument(doc, days, report)) removed++;
        await letOthersIn();
      }
      // A page of documents that all stayed (a job took each meanwhile) would come back again: stop.
      if (docs.length < BATCH || removed === 0) return;
    }
  }

  async #removeDocument(doc: DocumentRecord, days: number, report: RetentionReport): Promise<boolean> {
    let removed: RemovedDocument;
    try {
      removed = await this.#parts.removeDocument(doc.id);
    } catch (error) {
      // Removed meanwhile, or a job took it since it was listed, is no failure; anything else is said.
      notRemoved('document', doc.id, doc.tenantId, error, ['not_found', 'in_use']);
      return false;
    }
    report.documents++;
    report.bytes += doc.size;
    if (removed.blobDeleted) report.blobs++;
    await this.#audit(doc.tenantId, doc.id, { kind: 'document', storedAt: doc.createdAt, keptDays: days, size: doc.size, blobDeleted: removed.blobDeleted });
    return true;
  }

  async #audit(tenantId: string, target: string, details: Record<string, number | string | boolean | null>): Promise<void> {
    await this.#parts.store.appendAudit({ at: Date.now(), tenantId, subject: 'retention', role: 'system', ip: null, action: 'retention.delete', target, status: 0, details });
  }
}

function emptyReport(): RetentionReport {
  return { jobs: 0, documents: 0, blobs: 0, bytes: 0, uploads: 0, uploadBytes: 0 };
}

/** Each tenant with its own days (not kept forever), then everyone else with the default, if any. */
function scopes(tenants: TenantDays | undefined, days: number | undefined): Array<[Scope, number]> {
  const list: Array<[Scope, number]> = [];
  for (const [tenantId, kept] of Object.entries(tenants ?? {})) if (kept !== null) list.push([{ tenantId }, kept]);
  if (days !== undefined) list.push([{ exceptTenants: Object.keys(tenants ?? {}) }, days]);
  return list;
}

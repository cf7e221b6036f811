import { ReamError } from '../../errors.ts';
import type { JsonObject } from '../../json.ts';
import type { DocumentOutput } from '../../pipeline/types.ts';
import type { CreditEntry, JobDocumentRecord, JobRecord, Store, TenantQuotas } from '../../store/port.ts';
import { NO_USAGE, priceOf, type CreditPrices, type CreditUsage } from './prices.ts';
import { PDF_MEDIA_TYPE, REPORTS_ANALYZER, type ReportsData } from '../../reports/artifacts.ts';
import { ChunkMerger } from '../../pipeline/merge.ts';
import { RecentStorageUse } from './recent-storage-use.ts';

const DAY_MS = 24 * 3600_000;
/** A job's ledger entries are read this many at a time (a reserve, a top-up per long document, a settlement per retry). */
const JOB_ENTRIES = 1000;

export interface CreditSettings {
  /** The price table. Absent: credits are off (no reservation, no settlement); quotas still hold. */
  prices?: CreditPrices;
}

/** The records a keeper reads and writes. */
export type CreditRecords = Pick<
  Store,
  'appendCredit' | 'listCredits' | 'findCredit' | 'getQuotas' | 'tenantUsage' | 'largestDocumentBytes' | 'tenantStoredBytes' | 'tenantHeldBytes' | 'reserveStorage' | 'renewStorage' | 'releaseStorage' | 'creditBalance' | 'listJobDocuments' | 'getDocumentResult' | 'listChunkResults' | 'withContentLock' | 'getJob'
>;

/**
 * What the tenant's storage quota lets one file bring as it streams: `maxBytes` is the room left,
 * or the size of the largest document it holds when larger (a file that long may be content it
 * holds, which costs nothing). Past it the file can neither fit nor be held content.
 */
export interface StorageBound {
  limit: number;
  used: number;
  maxBytes: number;
}

/** What a submit is about to ask for. */
export interface Admission {
  tenantId: string;
  /** Documents of the job. */
  documents: number;
  /** Pages of the job when they were counted beforehand (an estimate's counts); default one per document. */
  pages?: number;
  options: JsonObject;
  /** A job about to be made (not a retry of one): it must fit the concurrent-jobs quota too. */
  newJob?: boolean;
}

/** The estimate a job is admitted with: what its reservation holds. */
export interface Estimate {
  pages: number;
  credits: number;
}

/** Ledger keys: one reservation per job; one settlement per run of it (a retry runs it again). */
export const creditKeys = {
  /** The submit's reservation, or a retry's (`retry`: its generation) of the pages it reads again. */
  reserve: (jobId: string, retry = 0): string => (retry === 0 ? `job:${jobId}:reserve` : `job:${jobId}:r${retry}:reserve`),
  /** The page held for a document added to the job after its submit, once. */
  added: (jobId: string, documentId: string): string => `job:${jobId}:add:${documentId}`,
  /** What a document read to more pages than reserved for it adds to the reservation, once per run (`retry`: its generation). */
  topUp: (jobId: string, documentId: string, retry = 0): string => (retry === 0 ? `job:${jobId}:topup:${documentId}` : `job:${jobId}:r${retry}:topup:${documentId}`),
  settle: (job: Pick<JobRecord, 'id' | 'retryGeneration'>): string => (job.retryGeneration === 0 ? `job:${job.id}:settle` : `job:${job.id}:r${job.retryGeneration}:settle`),
};

function quotaExceeded(quota: keyof TenantQuotas, limit: number, used: number, needed: number, words: string): ReamError {
  return new ReamError('quota_exceeded', `${words}: the limit is ${limit}, ${used} used, this needs ${needed}`, { details: { quota, limit, used, needed } });
}

/** The lock of a tenant's storage checks (a key no content hash has, a colon: as content locks are). */
function storageQuotaLock(tenantId: string): string {
  return `storage-quota:${tenantId}`;
}

/**
 * How long a storage reservation whose holder died keeps its room, in ms. A live holder renews it
 * every third of this while it stores ({@link CreditKeeper.withReservedStorage}): a store that
 * lasts longer (a large file to a slow S3) keeps its room counted to the end.
 */
export const STORAGE_RESERVATION_MS = 10 * 60_000;

/** Refuses one more job past the tenant's concurrent-jobs quota. */
function checkConcurrentJobs(quotas: TenantQuotas, unfinishedJobs: number): void {
  if (quotas.concurrentJobs !== undefined && unfinishedJobs + 1 > quotas.concurrentJobs) {
    throw quotaExceeded('concurrentJobs', quotas.concurrentJobs, unfinishedJobs, 1, 'too many unfinished jobs');
  }
}

/**
 * Credits and quotas around a job: checked and reserved at submit, settled when it ends. Every
 * ledger write has a key derived from the job, so retries, racing instances and a recovery after
 * a crash write each entry once (the store's unique key decides).
 */
export class CreditKeeper {
  readonly #store: CreditRecords;
  readonly #prices: CreditPrices | undefined;
  /** Present only for the sole process storing the tenants' bytes (embedded): see {@link withinStorageQuota}. */
  readonly #recentUse: RecentStorageUse | undefined;
  readonly #reservationMs: number;

  /**
   * `soleWriter`: no other process stores bytes into `store` (the embedded owner of a data dir).
   * Only then may a remembered count of a tenant's stored bytes serve a storage check: another
   * process's stores would be missing from it, and each process could fill the quota's room anew.
   * `reservationMs`: the lease of a storage reservation (default {@link STORAGE_RESERVATION_MS}).
   */
  constructor(store: CreditRecords, settings: CreditSettings = {}, { soleWriter = false, reservationMs = STORAGE_RESERVATION_MS }: { soleWriter?: boolean; reservationMs?: number } = {}) {
    this.#store = store;
    this.#prices = settings.prices;
    this.#recentUse = soleWriter ? new RecentStorageUse() : undefined;
    this.#reservationMs = reservationMs;
  }

  /** Whether jobs are priced (a price table was given). */
  get enabled(): boolean {
    return this.#prices !== undefined;
  }

  get prices(): CreditPrices | undefined {
    return this.#prices;
  }

  /**
   * Before a job's files are read: refuses a tenant at its storage or concurrent-jobs quota
   * (`quota_exceeded`), so a refused submit stores nothing; `incomingBytes` (what the request's
   * files bring at least) as {@link checkStorageEarly} does.
   */
  async checkIntake(tenantId: string, incomingBytes = 0): Promise<void> {
    const quotas = await this.#store.getQuotas(tenantId);
    if (quotas.storageBytes === undefined && quotas.concurrentJobs === undefined) return;
    const usage = await this.#store.tenantUsage(tenantId, startOfDay(Date.now()));
    checkConcurrentJobs(quotas, usage.unfinishedJobs);
    if (quotas.storageBytes !== undefined) await this.#checkBound(tenantId, quotas.storageBytes, usage.storageBytes, incomingBytes);
  }

  /**
   * Before a request's files are read, by their length: refuses bytes that could neither fit in
   * the room left nor be content the tenant holds (no longer than its largest document, costing
   * nothing once hashed): see {@link storageBound}. Each file is counted exactly once stored.
   */
  async checkStorageEarly(tenantId: string, incomingBytes: number): Promise<void> {
    const limit = (await this.#store.getQuotas(tenantId)).storageBytes;
    if (limit === undefined) return;
    await this.#checkBound(tenantId, limit, await this.#store.tenantStoredBytes(tenantId), incomingBytes);
  }

  /** The tenant's {@link StorageBound}; undefined without a storage quota. */
  async storageBound(tenantId: string): Promise<StorageBound | undefined> {
    const limit = (await this.#store.getQuotas(tenantId)).storageBytes;
    if (limit === undefined) return undefined;
    const used = await this.#store.tenantStoredBytes(tenantId);
    return { limit, used, maxBytes: Math.max(limit - used, await this.#store.largestDocumentBytes(tenantId)) };
  }

  async #checkBound(tenantId: string, limit: number, used: number, incomingBytes: number): Promise<void> {
    if (incomingBytes <= 0 || used + incomingBytes <= limit) return;
    if (incomingBytes > await this.#store.largestDocumentBytes(tenantId)) {
      throw quotaExceeded('storageBytes', limit, used, incomingBytes, 'the files are larger than the room the storage quota leaves');
    }
  }

  /**
   * Before bytes are stored outside a job (an upload): refuses past the storage quota.
   * `unfinishedBytes` (asked only of a tenant with a storage quota) counts what the tenant's
   * unfinished uploads hold or have declared, as if stored.
   */
  async checkStorage(tenantId: string, incomingBytes: number, unfinishedBytes?: () => Promise<number>): Promise<void> {
    const room = await this.storageRoom(tenantId, unfinishedBytes);
    if (room !== undefined) this.#checkStorage({ storageBytes: room.limit }, room.used, incomingBytes);
  }

  /**
   * Before an upload of content the tenant holds already (which costs nothing once stored) is
   * created: its bytes, on disk until it ends, and those of the tenant's other unfinished uploads
   * must fit in the storage quota; what the tenant has stored is not counted.
   */
  async checkUnfinishedStorage(tenantId: string, incomingBytes: number, unfinishedBytes: () => Promise<number>): Promise<void> {
    const limit = (await this.#store.getQuotas(tenantId)).storageBytes;
    if (limit === undefined) return;
    const used = await unfinishedBytes();
    if (used + incomingBytes > limit) {
      throw quotaExceeded('storageBytes', limit, used, incomingBytes, 'unfinished uploads are at the storage quota');
    }
  }

  /**
   * The tenant's storage quota (`limit`) and the bytes counted against it (`used`: stored, plus
   * `unfinishedBytes`, asked only when there is a quota); undefined without a storage quota.
   */
  async storageRoom(tenantId: string, unfinishedBytes?: () => Promise<number>): Promise<{ limit: number; used: number } | undefined> {
    const limit = (await this.#store.getQuotas(tenantId)).storageBytes;
    if (limit === undefined) return undefined;
    const stored = await this.#store.tenantStoredBytes(tenantId);
    return { limit, used: stored + ((await unfinishedBytes?.()) ?? 0) };
  }

  /**
   * {@link checkStorage}, then `storeIt`, one at a time per tenant across the deployment when the
   * tenant has a storage quota: two stores that each fit alone cannot both pass the check before
   * the other is counted. (The lock of a key no content hash has, a colon: as content locks are.)
   * `counted`, asked under the lock, says the bytes count toward the tenant's already (the same
   * content stored and counted once): then they need no room and are not checked. Far from the
   * quota, a sole writer uses a count of the last 2 s (RecentStorageUse): a big report job checks
   * every file, and SQLite sums the records. Processes sharing a PostgreSQL store read its exact
   * per-tenant counter each time (one row, kept in the transaction of each record's change), with
   * the room stores in flight hold ({@link withReservedStorage}).
   */
  async withinStorageQuota<T>(tenantId: string, incomingBytes: number, storeIt: () => Promise<T>, counted?: () => Promise<boolean>): Promise<T> {
    const limit = (await this.#store.getQuotas(tenantId)).storageBytes;
    if (limit === undefined) return storeIt();
    return this.#store.withContentLock(storageQuotaLock(tenantId), async () => {
      const counts = counted === undefined || !(await counted());
      if (counts) this.#checkStorage({ storageBytes: limit }, await this.#heldBytes(tenantId, limit, incomingBytes), incomingBytes);
      const stored = await storeIt();
      if (counts) this.#recentUse?.stored(tenantId, incomingBytes);
      return stored;
    });
  }

  /**
   * Like {@link withinStorageQuota}, but only the check holds the tenant's lock: it reserves the
   * room (`reserveStorage`, counted by every check until released) and `storeIt` runs outside,
   * so the stores of a tenant with a quota go on at once (a 500-row report job with a quota took
   * 1.9× as long when each file's upload held the lock). `storeIt` gets the reservation's id
   * (undefined when the bytes needed no room) to release in the transaction that records the
   * bytes (`putJobArtifacts`); it is released after `storeIt` anyway. It is renewed while
   * `storeIt` runs, however long, and a holder that dies holds it for {@link STORAGE_RESERVATION_MS} at most. `key` names the store (a job's report
   * file): the same store run again (its task retried after its process died mid-upload) takes
   * over its reservation, not counted in its own check, where the dead one's room refused it.
   */
  async withReservedStorage<T>(tenantId: string, incomingBytes: number, storeIt: (reservation: string | undefined) => Promise<T>, counted?: () => Promise<boolean>, key?: string): Promise<T> {
    const limit = (await this.#store.getQuotas(tenantId)).storageBytes;
    if (limit === undefined) return storeIt(undefined);
    const reservation = await this.#store.withContentLock(storageQuotaLock(tenantId), async () => {
      if (counted !== undefined && (await counted())) return undefined;
      this.#checkStorage({ storageBytes: limit }, await this.#heldBytes(tenantId, limit, incomingBytes, key), incomingBytes);
      const id = await this.#store.reserveStorage({ tenantId, bytes: incomingBytes, expiresAt: Date.now() + this.#reservationMs, ...(key === undefined ? {} : { key }) });
      this.#recentUse?.stored(tenantId, incomingBytes);
      return id;
    });
    // A store past the lease lost its room (counted by no check: others filled it) before it ended.
    // A renewal the store misses is tried again at the next: two more before the lease runs out.
    const renewal = reservation === undefined ? undefined : setInterval(() => {
      this.#store.renewStorage(reservation, Date.now() + this.#reservationMs).catch(() => undefined);
    }, this.#reservationMs / 3);
    renewal?.unref();
    try {
      return await storeIt(reservation);
    } finally {
      clearInterval(renewal);
      // Released with the record already, as a rule; a release the store misses now (it does not
      // answer) fails no store: the room is held until the reservation expires.
      if (reservation !== undefined) await this.#store.releaseStorage(reservation).catch(() => undefined);
    }
  }

  /** The tenant's stored bytes and the room its stores in flight hold (a sole writer's recent count far from the quota). */
  #heldBytes(tenantId: string, limit: number, incomingBytes: number, except?: string): Promise<number> {
    const count = (): Promise<number> => this.#store.tenantHeldBytes(tenantId, Date.now(), except);
    return this.#recentUse === undefined ? count() : this.#recentUse.used(tenantId, limit, incomingBytes, count);
  }

  /**
   * `create` (an upload's creation, whose check counts the tenant's unfinished uploads) one at a
   * time per tenant across the deployment when the tenant has a storage quota: creations at once
   * each count the others. Its own lock: a creation that brings the whole file finishes within it,
   * under {@link withinStorageQuota}'s.
   */
  async withinUploadCreation<T>(tenantId: string, create: () => Promise<T>): Promise<T> {
    if ((await this.#store.getQuotas(tenantId)).storageBytes === undefined) return create();
    return this.#store.withContentLock(`upload-create:${tenantId}`, create);
  }

  /**
   * `makeJob` (the admission of a new job and its making) one at a time per tenant across the
   * deployment when the tenant has a pages-per-day or concurrent-jobs quota: submits sent at once
   * are each checked against the usage of the others.
   */
  async withinJobQuotas<T>(tenantId: string, makeJob: () => Promise<T>): Promise<T> {
    const quotas = await this.#store.getQuotas(tenantId);
    if (quotas.pagesPerDay === undefined && quotas.concurrentJobs === undefined) return makeJob();
    return this.#store.withContentLock(`job-quotas:${tenantId}`, makeJob);
  }

  #checkStorage(quotas: TenantQuotas, used: number, incoming: number): void {
    if (quotas.storageBytes === undefined) return;
    // At the limit nothing more goes in; under it, an upload of unknown size (0) may.
    if (used + incoming > quotas.storageBytes || used >= quotas.storageBytes) {
      throw quotaExceeded('storageBytes', quotas.storageBytes, used, incoming, 'stored documents (and unfinished uploads) are at the storage quota');
    }
  }

  /**
   * Once the job's documents are known, before the job is made: its estimate, checked against
   * the pages-per-day quota and the balance (`quota_exceeded`, `insufficient_credits`).
   */
  async admit(admission: Admission): Promise<Estimate> {
    const estimate = this.estimate(admission);
    const quotas = await this.#store.getQuotas(admission.tenantId);
    const checksConcurrency = admission.newJob === true && quotas.concurrentJobs !== undefined;
    if (quotas.pagesPerDay !== undefined || checksConcurrency) {
      const usage = await this.#store.tenantUsage(admission.tenantId, startOfDay(Date.now()));
      if (checksConcurrency) checkConcurrentJobs(quotas, usage.unfinishedJobs);
      const used = usage.pagesSince;
      if (quotas.pagesPerDay !== undefined && used + estimate.pages > quotas.pagesPerDay) throw quotaExceeded('pagesPerDay', quotas.pagesPerDay, used, estimate.pages, 'pages per day');
    }
    if (this.enabled && estimate.credits > 0) {
      const balance = await this.#store.creditBalance(admission.tenantId);
      if (balance < estimate.credits) throw insufficient(admission.tenantId, balance, estimate.credits);
    }
    return estimate;
  }

  /**
   * The price a job is reserved at: its pages — counted beforehand (see `PageCounter`), else a
   * page per document (known only once read) — priced as plain pages (OCR is known only once read),
   * and, for a job with a token budget (`maxTokens`), the whole budget at the dearer token price.
   * What the job really uses is charged when it ends.
   */
  estimate(admission: Pick<Admission, 'documents' | 'options' | 'pages'>): Estimate {
    const pages = Math.max(1, admission.pages ?? admission.documents);
    if (!this.#prices) return { pages, credits: 0 };
    const budget = tokenBudgetOf(admission.options);
    const tokenPrice = Math.max(this.#prices.llmPrompt1kTokens ?? 0, this.#prices.llmCompletion1kTokens ?? 0);
    return { pages, credits: priceOf({ ...NO_USAGE, pages }, this.#prices) + Math.ceil((budget / 1000) * tokenPrice - 1e-9) };
  }

  /**
   * Holds the estimate for the job: once per job, refused (writing nothing) past the balance.
   * `documents`: of the job; pages reserved beyond one each were counted beforehand.
   */
  async reserve(job: Pick<JobRecord, 'id' | 'tenantId'>, estimate: Estimate, documents: number): Promise<void> {
    if (!this.enabled || estimate.credits === 0) return;
    await this.#store.appendCredit({
      tenantId: job.tenantId, kind: 'reserve', amount: -estimate.credits, key: creditKeys.reserve(job.id), jobId: job.id,
      reason: null, at: Date.now(), details: { estimatedPages: estimate.pages, documents },
    }, { requireFunds: true });
  }

  /**
   * Documents added to a job after its submit (not found inside another): a page each is held,
   * as the submit held a page per document, before they are attached, refused with
   * `insufficient_credits` past the balance (nothing held then). Their inspection tops the rest
   * up ({@link topUp}). A job its submit reserved nothing for (credits off, or made without
   * files) holds nothing for them either. Once per document (its key).
   */
  async reserveAdded(job: Pick<JobRecord, 'id' | 'tenantId'>, documentIds: readonly string[]): Promise<void> {
    if (!this.enabled || documentIds.length === 0 || !this.#prices?.page) return;
    if (!(await this.#store.findCredit(creditKeys.reserve(job.id)))) return;
    const page = priceOf({ ...NO_USAGE, pages: 1 }, this.#prices);
    // Under the job's ledger lock, as its settlement: a cancel or delete that landed since the job
    // was read settled it already, so nothing is held (the intake then refuses the documents).
    await this.#store.withContentLock(ledgerLock(job.id), async () => {
      const current = await this.#store.getJob(job.id);
      if (!current || current.status === 'cancelled') return;
      const fresh: string[] = [];
      for (const documentId of documentIds) if (!(await this.#store.findCredit(creditKeys.added(job.id, documentId)))) fresh.push(documentId);
      const balance = await this.#store.creditBalance(job.tenantId);
      if (balance < page * fresh.length) throw insufficient(job.tenantId, balance, page * fresh.length);
      for (const documentId of fresh) {
        await this.#store.appendCredit({
          tenantId: job.tenantId, kind: 'reserve', amount: -page, key: creditKeys.added(job.id, documentId), jobId: job.id,
          reason: null, at: Date.now(), details: { documentId, pages: 1 },
        }, { requireFunds: true });
      }
    });
  }

  /**
   * Holds a started retry's estimate (the pages of the documents it reads again, {@link admit}ted
   * just before) until its settlement: once per retry. Written even if a spend since took the
   * balance under it, as the retry runs already; not written once the retry has ended.
   */
  async reserveRetry(job: Pick<JobRecord, 'id' | 'tenantId' | 'retryGeneration'>, estimate: Estimate): Promise<void> {
    if (!this.enabled || estimate.credits === 0) return;
    // Under the ledger lock, as the settlement: a retry that ended already (its documents failed
    // at once) was settled without this, which would otherwise be held for good.
    await this.#store.withContentLock(ledgerLock(job.id), async () => {
      const current = await this.#store.getJob(job.id);
      if (!current || current.finishedAt !== null || current.retryGeneration !== job.retryGeneration) return;
      await this.#store.appendCredit({
        tenantId: job.tenantId, kind: 'reserve', amount: -estimate.credits, key: creditKeys.reserve(job.id, job.retryGeneration), jobId: job.id,
        reason: null, at: Date.now(), details: { estimatedPages: estimate.pages },
      });
    });
  }

  /**
   * Once a document is inspected: a job is reserved a page per document not counted beforehand
   * (at submit, or as it was added: {@link reserveAdded}), and one read to more (a table of 4,000 rows, a long PDF) has the rest of its pages reserved
   * now, refused with `insufficient_credits` past the balance — before any page is read, rather
   * than charged into a negative balance when the job ends. Pages the submit counted beforehand
   * (reserved beyond a page per document) are drawn on first. A document found inside another
   * (an e-mail's attachment: `child`) had nothing reserved: all its pages are. Once per document
   * and run (its key): a retry that inspects a document again (it failed before it was marked
   * inspected, perhaps after its top-up, which that run's settlement gave back) reserved a page for
   * it ({@link redoPages}), and tops the rest up again.
   */
  async topUp(job: Pick<JobRecord, 'id' | 'tenantId' | 'retryGeneration'>, documentId: string, pages: number, child = false): Promise<void> {
    const retry = job.retryGeneration;
    const held = child && retry === 0 ? 0 : 1;
    if (!this.enabled || pages <= held || !this.#prices?.page) return;
    const reserved = await this.#store.findCredit(creditKeys.reserve(job.id));
    const details = reserved?.details as { estimatedPages?: number; documents?: number } | undefined;
    if (!reserved || details?.documents === undefined || details.estimatedPages === undefined) return; // not reserved (free), or by an older version
    // Pages counted beforehand are the submit's: a retry reserved its pages itself.
    const counted = retry === 0 ? details.estimatedPages - details.documents : 0;
    const key = creditKeys.topUp(job.id, documentId, retry);
    const append = async (countedUsed: number): Promise<void> => {
      const more = pages - held - countedUsed;
      await this.#store.appendCredit({
        tenantId: job.tenantId, kind: 'reserve', amount: 0 - priceOf({ ...NO_USAGE, pages: more }, this.#prices ?? {}), key, jobId: job.id,
        reason: null, at: Date.now(), details: { documentId, pages: more, countedUsed },
      }, { requireFunds: true });
    };
    // Under the job's ledger lock, as its settlement: a top-up either comes before the settlement
    // (which gives it back) or finds the job ended (a cancel or delete that landed while the
    // document was read) and holds nothing — never one held after the settlement, for good.
    // Pages counted beforehand are drawn on by one document at a time.
    await this.#store.withContentLock(ledgerLock(job.id), async () => {
      const current = await this.#store.getJob(job.id);
      if (!current || current.finishedAt !== null) {
        throw new ReamError('cancelled', `job ${job.id} ended before document ${documentId} was inspected: nothing is reserved for it`);
      }
      if (counted <= 0 || child) return append(0);
      if (await this.#store.findCredit(key)) return;
      const used = (await this.#jobEntries(job.id)).reduce((sum, entry) => sum + ((entry.details as { countedUsed?: number } | null)?.countedUsed ?? 0), 0);
      await append(Math.min(pages - 1, Math.max(0, counted - used)));
    });
  }

  /** Every ledger entry of a job, a page at a time (a document's top-up each: there may be many). */
  async #jobEntries(jobId: string): Promise<CreditEntry[]> {
    const entries: CreditEntry[] = [];
    for (;;) {
      const page = await this.#store.listCredits({ jobId, limit: JOB_ENTRIES, ...(entries.length > 0 ? { afterId: entries.at(-1)?.id } : {}) });
      entries.push(...page);
      if (page.length < JOB_ENTRIES) return entries;
    }
  }

  /**
   * Settles an ended job's run: charges what it used (pages and OCR pages of the documents it
   * read, model tokens) and releases the rest of what it holds — `finalize`, or `refund` for a
   * failed or cancelled job. After it, the job's entries sum to minus its charge. Safe to call
   * any number of times from any process: the first write of the run's key stands. A job that
   * ends again after documents were added to it once it had ended is settled again
   * (`<key>:<finishedAt>`).
   */
  async settle(job: JobRecord): Promise<void> {
    if (!this.enabled || job.finishedAt === null) return;
    await this.#store.withContentLock(ledgerLock(job.id), () => this.#settle(job));
  }

  async #settle(job: JobRecord): Promise<void> {
    let key = creditKeys.settle(job);
    const first = await this.#store.findCredit(key);
    if (first) {
      // Settled already: at this end (a repeat), or at an earlier one of the same run, before
      // documents were added to the ended job, which ran again. Each end settles what the ones
      // before left held (what the added documents reserved, and what they read).
      // One written before settlements named their end is of this end unless the job ended after it.
      const settledAt = (first.details as { finishedAt?: unknown } | null)?.finishedAt;
      if (typeof settledAt === 'number' ? settledAt === job.finishedAt : job.finishedAt === null || job.finishedAt <= first.at) return;
      key = `${key}:${job.finishedAt}`;
      if (await this.#store.findCredit(key)) return;
    }
    const usage = await this.usageOf(job.id);
    const charge = priceOf(usage, this.#prices ?? {});
    const entries = await this.#jobEntries(job.id);
    const held = -entries.reduce((sum, entry) => sum + entry.amount, 0);
    await this.#store.appendCredit({
      tenantId: job.tenantId, kind: job.status === 'failed' || job.status === 'cancelled' ? 'refund' : 'finalize',
      amount: held - charge, key, jobId: job.id, reason: null, at: Date.now(),
      details: { charge, status: job.status, finishedAt: job.finishedAt, ...usage },
    });
  }

  /**
   * The pages a retry of `docs` reads again: a page for one never inspected, the failed pages of
   * one with a result, the pages its chunks did not read for one without.
   */
  async redoPages(jobId: string, docs: readonly JobDocumentRecord[]): Promise<number> {
    let pages = 0;
    for (const doc of docs) {
      if (doc.pagesTotal === null) {
        pages += 1;
        continue;
      }
      // Written by the merge step as a DocumentOutput (JSON in the store).
      const output = (await this.#store.getDocumentResult(jobId, doc.documentId))?.output as unknown as Partial<DocumentOutput> | null | undefined;
      if (typeof output === 'object' && output !== null && Array.isArray(output.failedPages)) {
        pages += new Set(output.failedPages.map((failure) => failure.page)).size;
        continue;
      }
      const merger = new ChunkMerger();
      for (const chunk of await this.#store.listChunkResults(jobId, doc.documentId)) merger.add(chunk);
      pages += Math.max(0, doc.pagesTotal - merger.result().pages.length);
    }
    return Math.max(1, pages);
  }

  /** What the job's documents used, from their results (counted from records: repeats never add). */
  async usageOf(jobId: string): Promise<CreditUsage> {
    const usage = { ...NO_USAGE };
    for (const doc of await this.#store.listJobDocuments(jobId)) {
      const result = await this.#store.getDocumentResult(jobId, doc.documentId);
      if (!result && doc.status === 'cancelled') {
        // Cancelled before its merge, it has no stored result; what it read (and the model
        // tokens it spent) is in its chunks' checkpoints, and is paid for as any page read.
        const merger = new ChunkMerger();
        for (const chunk of await this.#store.listChunkResults(jobId, doc.documentId)) merger.add(chunk);
        const read = merger.result();
        usage.pages += read.pages.length;
        usage.ocrPages += read.pages.filter((page) => page.source === 'ocr').length;
        usage.promptTokens += read.usage.promptTokens;
        usage.completionTokens += read.usage.completionTokens;
        continue;
      }
      const output = (typeof result?.output === 'object' && result.output !== null && !Array.isArray(result.output) ? result.output : {}) as unknown as Partial<DocumentOutput>;
      if (doc.status === 'failed' && output.usage === undefined) {
        // Failed before its merge (a chunk failed: the job's token budget spent, the provider
        // refusing the key): the model tokens its answered chunks spent were still spent, and are
        // paid for; its pages, not delivered, are not.
        const merger = new ChunkMerger();
        for (const chunk of await this.#store.listChunkResults(jobId, doc.documentId)) merger.add(chunk);
        const { usage: spent } = merger.result();
        usage.promptTokens += spent.promptTokens;
        usage.completionTokens += spent.completionTokens;
        continue;
      }
      if (!result || typeof result.output !== 'object' || result.output === null || Array.isArray(result.output)) continue;
      // Written by the merge step as a DocumentOutput (JSON in the store).
      const pages = Array.isArray(output.pages) ? output.pages : [];
      // A long table's result lists no rows (pagesOmitted): its rows read are its count less its failed ones.
      const failed = new Set((output.failedPages ?? []).map((failure) => failure.page)).size;
      usage.pages += output.pagesOmitted ? Math.max(0, (output.pageCount ?? 0) - failed) : pages.length;
      usage.ocrPages += pages.filter((page) => page.source === 'ocr').length;
      usage.promptTokens += output.usage?.promptTokens ?? 0;
      usage.completionTokens += output.usage?.completionTokens ?? 0;
      const reports = output.analysis?.[REPORTS_ANALYZER] as ReportsData | undefined;
      usage.renderedPdfs += (reports?.artifacts ?? []).filter((artifact) => artifact.mediaType === PDF_MEDIA_TYPE).length;
    }
    return usage;
  }
}

/** The lock a job's top-ups and settlements take (a key no content hash has: a colon). */
function ledgerLock(jobId: string): string {
  return `credit-ledger:${jobId}`;
}

function insufficient(tenantId: string, balance: number, needed: number): ReamError {
  return ReamError.nonRetryable('insufficient_credits', `tenant ${tenantId} has ${balance} credit(s); this job needs ${needed}`, { details: { balance, needed } });
}

function startOfDay(now: number): number {
  return now - (now % DAY_MS);
}

/**
 * A job's token budget: `maxTokens` of an `llm` job, or of the `llm` option of a `rows` job (its
 * rows through a model), which spends tokens just the same; 0 without one.
 */
function tokenBudgetOf(options: Admission['options']): number {
  if (typeof options.maxTokens === 'number') return options.maxTokens;
  const llm = options.llm;
  const nested = typeof llm === 'object' && llm !== null && !Array.isArray(llm) ? llm.maxTokens : undefined;
  return typeof nested === 'number' ? nested : 0;
}

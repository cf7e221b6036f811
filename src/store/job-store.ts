import type { ErrorInfo } from '../errors.ts';
import type { JsonObject } from '../json.ts';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'partially_succeeded' | 'failed' | 'cancelled';
/** Every job status, in lifecycle order: the one list the API, metrics and stores use. */
export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'partially_succeeded', 'failed', 'cancelled'];
/** A job in one of these has ended (until a retry or a new document reopens it). */
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'partially_succeeded', 'failed', 'cancelled'];
/** A job in one of these has not ended. */
export const UNFINISHED_JOB_STATUSES: readonly JobStatus[] = ['queued', 'running'];

/** The tenant of a job or document when none is named (embedded use, auth off). */
export const DEFAULT_TENANT = 'local';

/** Where to POST the job's terminal events; `secret` signs them (see src/runtime/webhook-delivery.ts). */
export interface WebhookTarget {
  url: string;
  secret?: string;
}

export interface JobRecord {
  id: string;
  tenantId: string;
  /** Idempotency key, unique per tenant when set. */
  key: string | null;
  pipeline: string;
  options: JsonObject;
  /** Higher runs first. */
  priority: number;
  status: JobStatus;
  error: ErrorInfo | null;
  /** Epoch ms. */
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Engine state: how many times the job was retried; its tasks of generation n > 0 carry `:r<n>`. */
  retryGeneration: number;
  /** Engine state: where its terminal events are POSTed. Holds a secret: never shown in views. */
  webhook: WebhookTarget | null;
  /**
   * Engine state: bumped whenever documents are added to the job or reset for a retry. Closing the
   * job is conditional on it (see {@link JobCondition.ifDocumentsSeq}).
   */
  documentsSeq: number;
}

export type NewJob = Pick<JobRecord, 'id' | 'tenantId' | 'key' | 'pipeline' | 'options' | 'priority'> & { webhook?: WebhookTarget | null };

export type JobPatch = Partial<Pick<JobRecord, 'status' | 'error' | 'startedAt' | 'finishedAt' | 'retryGeneration'>> & {
  /** Adds one to `documentsSeq`, in the statement (never a read-then-write). */
  bumpDocumentsSeq?: true;
  /**
   * Frees the job's idempotency key (`key` becomes null): a deletion begins with it, so a
   * submission repeating the key while the job is still being cancelled makes a new job instead
   * of answering one that is about to go.
   */
  releaseKey?: true;
  /**
   * Gives a job its idempotency key back: a deletion that freed it and then failed before the job
   * was cancelled leaves the job as it was. Refused (the store's unique key) when a new job took
   * the key meanwhile: that one answers it from then on.
   */
  restoreKey?: string;
};

/**
 * What must hold, in the same statement as the update, for a conditional {@link JobStore.updateJob}
 * to apply. Each check present must hold. This is how the engine makes its status changes
 * exactly-once without locks: of two processes racing on one transition, only the one whose
 * update applied goes on (emits the event, schedules the work).
 */
export interface JobCondition {
  /** The job's status is one of these. */
  ifStatusIn?: readonly JobStatus[];
  /** The job's `documentsSeq` is this: no document was added or reset since the caller read it. */
  ifDocumentsSeq?: number;
  /**
   * None of the job's documents is unfinished (`queued` or `running`): a `not exists` on
   * `job_documents` evaluated in the update itself.
   */
  ifDocumentsEnded?: true;
}

export interface ListJobsQuery {
  /** One tenant's jobs; none: every tenant's (what an admin may ask for). */
  tenantId?: string;
  status?: JobStatus;
  /**
   * Only jobs whose id starts with this text or whose pipeline's name holds it, letters A-Z in
   * either case; blank: no narrowing.
   */
  search?: string;
  /** `newest` (the default) or `oldest` first; a cursor reads on only in the order it came from. */
  order?: 'newest' | 'oldest';
  /** Default 50, at most 500. */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
  /** Count the jobs the list holds (cursor aside) too, up to `JOB_TOTAL_CAP`: `JobListPage.total`. */
  total?: boolean;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Counting a job list stops here: a count of a huge table would cost a read of all of it. */
export const JOB_TOTAL_CAP = 10_000;

/** How many jobs a list holds: `exact` false when there are more than `count` (`JOB_TOTAL_CAP`). */
export interface ListTotal {
  count: number;
  exact: boolean;
}

/** A page of jobs, with the list's total when it was asked for. */
export interface JobListPage extends Page<JobRecord> {
  total?: ListTotal;
}

/**
 * Jobs: what was asked, by whom, and where it stands. Tenant-agnostic except where a tenant is
 * named: the caller scopes by tenant (the HTTP layer checks ownership).
 * Contract: test/conformance/store-jobs.ts.
 */
export interface JobStore {
  /**
   * Idempotent: creating a job whose `key` the tenant used already (or whose id exists) returns
   * the existing job unchanged, and two concurrent creates with one key make one job — race-free
   * where a findJobByKey-then-create is not. A new job starts `queued`, with no error or times.
   */
  createJob(job: NewJob, now: number): Promise<JobRecord>;
  /**
   * The job as stored; `undefined` when there is none, or its deletion has begun (`deleteJob`),
   * unless `deleting` is set: a deletion cut short is finished by deleting the job again.
   */
  getJob(id: string, options?: { deleting?: boolean }): Promise<JobRecord | undefined>;
  /** The tenant's job with this idempotency key; keys of other tenants never match. */
  findJobByKey(tenantId: string, key: string): Promise<JobRecord | undefined>;
  /**
   * Sets the fields present in `patch` (`null` clears), leaves the others, and returns the job as
   * stored; an empty patch changes nothing. An unknown job is `not_found`.
   */
  updateJob(id: string, patch: JobPatch): Promise<JobRecord>;
  /**
   * The same, only if `condition` holds at the moment of the update (one atomic statement):
   * returns the updated job, or `undefined` when the condition did not hold or there is no such job.
   */
  updateJob(id: string, patch: JobPatch, condition: JobCondition): Promise<JobRecord | undefined>;
  /**
   * One tenant's jobs, newest (or oldest) first, ties by id, optionally of one status or matching a
   * search. Pages neither skip nor repeat a job that exists throughout; a malformed cursor, or one
   * of the other order, is `validation_failed`.
   */
  listJobs(query: ListJobsQuery): Promise<JobListPage>;
  /** Jobs in `queued` or `running` (any tenant), oldest first: what a restarted process must see through. */
  listUnfinishedJobs(): Promise<JobRecord[]>;
  /** Ended jobs (any tenant) whose `finishedAt` is at or after `since` (epoch ms), in end order: recent ends a restart re-announces. */
  listJobsFinishedSince(since: number): Promise<JobRecord[]>;
  /**
   * Ended jobs whose `finishedAt` is before `before` (epoch ms), oldest end first, at most
   * `limit`: those of `tenantId` when given, else of every tenant but `exceptTenants` (retention).
   * `after`: only those past this job in that order (the last of the previous page). Jobs whose
   * deletion was cut short are among them, so that retention finishes it.
   */
  listJobsFinishedBefore(query: { before: number; limit: number; tenantId?: string; exceptTenants?: readonly string[]; after?: { finishedAt: number; id: string } }): Promise<JobRecord[]>;
  /**
   * Removes the job and everything recorded for it: its job documents, chunk results, document
   * results and events, a bounded batch per statement, the job row last. The job is marked first:
   * from then on no read answers it (`getJob`, `listJobs`, ...), so none sees it half deleted. Cut
   * short (a statement timeout, a crash), it is finished by calling it again. The pages of its documents stay in its
   * tenant's usage of the day the job was made (`pagesPerDay`), counted once throughout; deleted
   * documents only it still named go. Documents (and their blobs) stay: other jobs may use the
   * same content. `false` when there was no such job.
   */
  deleteJob(id: string): Promise<boolean>;
  /**
   * The mark `deleteJob` starts with, alone: from then on no read answers the job and its key is
   * free, yet every row stays. What must be read of a job before it goes (its report blobs) is
   * read after this, so nothing written before the mark escapes the reading; `deleteJob` then
   * removes it. `false` when there is no such job (one marked already answers `true`).
   */
  markJobDeleting(id: string): Promise<boolean>;
  /** Ids of jobs whose deletion began before `before` (epoch ms) and has not finished: deletions cut short. */
  listJobsDeletingBefore(before: number): Promise<string[]>;
  /** Jobs per status across every tenant (for metrics): every status present, 0 when none. */
  jobStatusCounts(): Promise<Record<JobStatus, number>>;
  /** `createdAt` of the oldest job in `status` across every tenant (how long the queue's head has waited); null when none. */
  oldestJobCreatedAt(status: JobStatus): Promise<number | null>;
}

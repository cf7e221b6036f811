import type { JsonValue } from '../json.ts';

/**
 * What moves a tenant's balance: `grant` adds credits (an admin), `reserve` holds a job's
 * estimated price at submit, `finalize` settles a job that produced something (what it used is
 * charged, the rest of the reservation released), `refund` settles a failed or cancelled job.
 */
export type CreditKind = 'grant' | 'reserve' | 'finalize' | 'refund';

/** One ledger entry. Credits are whole numbers: every charge is rounded up once, per job. */
export interface CreditEntry {
  /** Sortable by time: entries are listed in this order. */
  id: string;
  tenantId: string;
  kind: CreditKind;
  /** The change to the balance: positive adds, negative spends. */
  amount: number;
  /**
   * Exactly-once: unique across the ledger (`job:<id>:reserve`, `job:<id>:settle`, a grant's
   * caller-chosen key). Appending a key that exists writes nothing.
   */
  key: string;
  jobId: string | null;
  /** Why (a grant's reason); null when the kind says it all. */
  reason: string | null;
  /** Epoch ms. */
  at: number;
  details?: JsonValue;
}

export type NewCreditEntry = Omit<CreditEntry, 'id'>;

export interface AppendedCredit {
  entry: CreditEntry;
  /** False when an entry with this key existed: `entry` is that one, and nothing changed. */
  applied: boolean;
  /** The tenant's balance after the append (or as it stands, on a repeat). */
  balance: number;
}

/** Limits per tenant; an absent limit is no limit. */
export interface TenantQuotas {
  /** Pages of the tenant's jobs submitted since midnight UTC (estimated at submit, counted once read). */
  pagesPerDay?: number;
  /** Jobs `queued` or `running` at once. */
  concurrentJobs?: number;
  /** Bytes of stored documents. */
  storageBytes?: number;
}

/** What the quotas are measured against, counted from the records (never a counter to drift). */
export interface TenantUsage {
  /** Pages of the tenant's jobs created at or after `since`: those read, and one for each document still to be read. */
  pagesSince: number;
  unfinishedJobs: number;
  storageBytes: number;
}

export interface CreditQuery {
  tenantId?: string;
  jobId?: string;
  /** Entries after this id (the last of the previous page). */
  afterId?: string;
  limit: number;
}

/**
 * Credits and quotas per tenant: an append-only ledger with a balance per tenant, and the
 * quotas an admin set. Contract: test/conformance/store-tenants.ts.
 */
export interface TenantStore {
  /**
   * Appends an entry and moves the tenant's balance by its amount, in one transaction, unless an
   * entry with its key exists (then nothing changes: `applied: false`). With `requireFunds`, a
   * spend that would take the balance below zero is refused (`insufficient_credits`, details
   * `balance` and `needed`) and writes nothing; of two racing spends, the second sees the first.
   */
  appendCredit(entry: NewCreditEntry, options?: { requireFunds?: boolean }): Promise<AppendedCredit>;
  /** The tenant's balance: 0 for a tenant with no entry. */
  creditBalance(tenantId: string): Promise<number>;
  /** The entry with this key, if any. */
  findCredit(key: string): Promise<CreditEntry | undefined>;
  /** Entries matching `query`, oldest first. */
  listCredits(query: CreditQuery): Promise<CreditEntry[]>;
  /** Tenants with a balance, quotas or a job, by tenant id: at most `limit`, those after `after`. */
  listTenants(query: { after?: string; limit: number }): Promise<Array<{ tenantId: string; balance: number; quotas: TenantQuotas }>>;
  /** The tenant's quotas: `{}` when none were set. */
  getQuotas(tenantId: string): Promise<TenantQuotas>;
  /** Replaces the tenant's quotas (`{}` lifts them all). */
  setQuotas(tenantId: string, quotas: TenantQuotas): Promise<void>;
  /** What the tenant's quotas are measured against; `since` is epoch ms (the start of the day). */
  tenantUsage(tenantId: string, since: number): Promise<TenantUsage>;
  /** The size of the tenant's largest stored document (0 when none): no longer file can be content it holds already. */
  largestDocumentBytes(tenantId: string): Promise<number>;
  /** The bytes the tenant has stored (`TenantUsage.storageBytes` alone): one row in PostgreSQL. */
  tenantStoredBytes(tenantId: string): Promise<number>;
  /**
   * The tenant's stored bytes plus the room its stores in flight hold (reservations not expired
   * at `at`), read at one instant: a store recording its bytes as it releases its room is counted once.
   * `except`: a reservation not counted (the one a store taking it again replaces).
   */
  tenantHeldBytes(tenantId: string, at: number, except?: string): Promise<number>;
  /**
   * Holds `bytes` of the tenant's storage quota for a store in flight until it is released (or
   * `expiresAt`, epoch ms, when its holder died); drops the tenant's expired reservations. Its id:
   * `key` when given (the same store, e.g. a job's report file, taken again after its holder died
   * replaces its reservation rather than holding the room twice), else a new one.
   */
  reserveStorage(reservation: { tenantId: string; bytes: number; expiresAt: number; key?: string }): Promise<string>;
  /** Moves a reservation's expiry to `expiresAt` (its holder is still storing); nothing when it was released already. */
  renewStorage(id: string, expiresAt: number): Promise<void>;
  /** Gives back a reservation's room (nothing when it was released already, e.g. by `putJobArtifacts`). */
  releaseStorage(id: string): Promise<void>;
  /**
   * Drops every storage reservation at once, for a process that knows no other holds one (the
   * embedded owner of a data dir, at open): a killed holder's room would otherwise stay taken until it expires.
   */
  releaseAllStorage(): Promise<void>;
}
